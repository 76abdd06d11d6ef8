"""Thin tasks of the requests app. Each calls one service."""

from celery import shared_task

from . import external


@shared_task
def external_connections_daily() -> dict[str, int]:
    """End the connections whose end date has come and send the renewal notices (3.6)."""
    return external.external_connections_daily()
