"""Thin tasks: the daily schedule of validations. Each calls one service."""

from celery import shared_task

from . import services
from .models import Validation


@shared_task
def open_due_validations() -> int:
    return len(services.open_due_validations())


@shared_task
def send_validation_reminders() -> int:
    return services.send_reminders()


@shared_task
def handle_validation_non_response() -> int:
    return services.handle_non_response()


@shared_task
def refresh_signed_off_validations() -> int:
    done = 0
    for validation in Validation.objects.filter(status=Validation.Status.SIGNED_OFF):
        done += services.validation_refresh(validation=validation).status == Validation.Status.COMPLETE
    return done
