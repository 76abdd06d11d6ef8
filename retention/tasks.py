"""Thin tasks: the hourly run of retention extensions."""

from celery import shared_task

from . import services


@shared_task
def retention_daily() -> dict:
    """Retention extensions (S3.11): end those whose end date has come, send the due review notices."""
    return services.retention_daily()
