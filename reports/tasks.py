"""Thin tasks: the daily reminders of the reports due (2.5). Each calls one service."""

from celery import shared_task

from . import services


@shared_task
def remind_reports_due() -> int:
    return services.reminders_send()
