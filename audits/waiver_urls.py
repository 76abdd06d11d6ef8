"""Waivers (5.1)."""

app_name = "waivers"
urlpatterns = []
