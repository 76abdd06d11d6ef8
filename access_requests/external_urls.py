"""External system connections (3.6)."""

app_name = "external"
urlpatterns = []
