"""Thin tasks of the requests app. Each calls one service."""

from celery import shared_task

from .hygiene import grant_hygiene_run


@shared_task
def grant_hygiene() -> int:
    """Each night: report the grants that should not exist and, by setting, suspend them (once).
    Returns how many findings there were."""
    return len(grant_hygiene_run().findings)
