"""Bringing a city in (ITSA's import page)."""

from django.urls import path

from . import views

app_name = "adoption"
urlpatterns = [
    path("", views.upload_index, name="index"),
    path("uploads/<int:pk>/", views.upload_detail, name="upload"),
    path("uploads/<int:pk>/report.csv", views.upload_report, name="upload_report"),
    path("uploads/<int:pk>/import/", views.upload_import, name="upload_import"),
]
