import os

from celery import Celery
from celery.signals import setup_logging
from django.conf import settings
from django.utils.log import configure_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _use_django_logging(**kwargs):
    """The worker and beat log through settings.LOGGING: when this signal has a receiver, Celery
    installs no handler or format of its own, so a failed task's traceback is one escaped record."""
    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
