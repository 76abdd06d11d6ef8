"""Waivers (5.1)."""

from django.urls import path

from . import views

app_name = "waivers"
urlpatterns = [
    path("", views.waiver_list, name="list"),
    path("new/", views.waiver_new, name="new"),
    path("<int:pk>/", views.waiver_detail, name="detail"),
    path("<int:pk>/decide/", views.waiver_decide, name="decide"),
    path("<int:pk>/mayor/", views.waiver_mayor, name="mayor"),
    path("<int:pk>/revoke/", views.waiver_revoke, name="revoke"),
]
