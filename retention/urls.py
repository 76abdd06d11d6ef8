"""Retention extensions (3.11)."""

from django.urls import path

from . import views

app_name = "retention"
urlpatterns = [
    path("", views.retention_list, name="list"),
    path("new/", views.retention_new, name="new"),
    path("<int:pk>/", views.retention_detail, name="detail"),
    path("<int:pk>/decide/", views.retention_decide, name="decide"),
    path("<int:pk>/end/", views.retention_end, name="end"),
]
