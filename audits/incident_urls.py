"""Incidents (5.2)."""

app_name = "incidents"
urlpatterns = []
