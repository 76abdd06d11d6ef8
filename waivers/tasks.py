"""Thin tasks: the hourly run of waivers."""

from celery import shared_task

from . import services


@shared_task
def waivers_daily() -> int:
    """Waivers (S5.1): end those whose end date has come (00:00, city time). Returns how many ended."""
    return services.waivers_daily()
