from celery import shared_task

from .services import sessions_prune


@shared_task
def prune_sessions() -> int:
    """Each night: expired sessions go, and so do the records of them shown on Sign-in security."""
    return sessions_prune()
