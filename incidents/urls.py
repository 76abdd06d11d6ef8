"""Incidents (5.2)."""

from django.urls import path

from . import views

app_name = "incidents"
urlpatterns = [
    path("", views.incident_list, name="list"),
    path("new/", views.incident_new, name="new"),
    path("<int:pk>/", views.incident_detail, name="detail"),
    path("<int:pk>/suspend/", views.incident_suspend, name="suspend"),
    path("<int:pk>/close/", views.incident_close, name="close"),
]
