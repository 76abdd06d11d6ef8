from celery import shared_task

from .services import agreements_daily as run


@shared_task
def agreements_daily() -> int:
    """At 00:00, city time, on its end date, an information sharing agreement ends and every grant
    under it is removed, with notice (S3.7). Returns how many agreements ended."""
    return run()
