from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = "Sign-in and sessions"

    def ready(self):
        from . import signals  # noqa: F401
