from celery import shared_task

from .oversight import oversight_end_expired
from .services import sessions_prune


@shared_task
def prune_sessions() -> int:
    """Each night: expired sessions go, and so do the records of them shown on Sign-in security."""
    return sessions_prune()


@shared_task
def end_expired_oversight() -> int:
    """Each night: oversight appointments past their last day end, and their read access with them."""
    return oversight_end_expired()
