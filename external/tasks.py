"""Thin tasks of the external connections app. Each calls one service."""

from celery import shared_task

from . import services


@shared_task
def external_connections_daily() -> dict[str, int]:
    """End the connections whose end date has come and send the renewal notices (3.6)."""
    return services.external_connections_daily()
