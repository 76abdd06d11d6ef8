"""Metrics and KPIs (2.5)."""

from django.urls import path

from . import views

app_name = "kpis"
urlpatterns = [
    path("", views.kpi_list, name="list"),
    path("new/", views.kpi_new, name="new"),
    path("<int:pk>/", views.kpi_detail, name="detail"),
    path("<int:pk>/decide/", views.kpi_decide, name="decide"),
    path("<int:pk>/withdraw/", views.kpi_withdraw, name="withdraw"),
    path("<int:pk>/retire/", views.kpi_retire, name="retire"),
    path("<int:pk>/figure/", views.kpi_figure, name="figure"),
    path("impact/<int:department>/<int:system>/<int:use>/<int:year>/", views.kpi_impact, name="impact"),
]
