from django.apps import AppConfig


class ExternalConfig(AppConfig):
    name = "external"
    verbose_name = "External system connections"
