from django.apps import AppConfig


class AccessRequestsConfig(AppConfig):
    # The folder is named for the design card; the label avoids clashing with the HTTP library.
    name = "requests"
    label = "access_requests"
    verbose_name = "Access requests"
