"""Retention extensions (3.11)."""

app_name = "retention"
urlpatterns = []
