from django.apps import AppConfig


class AccessRequestsConfig(AppConfig):
    # Not "requests": that name belongs to the HTTP library, which other packages import.
    name = "access_requests"
    label = "access_requests"
    verbose_name = "Access requests"
