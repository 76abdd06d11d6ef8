from celery import shared_task

from .emails import outgoing_email_flush, outgoing_email_send


@shared_task(autoretry_for=(OSError,), retry_backoff=30, retry_backoff_max=1800, max_retries=8)
def send_outgoing_email(pk: int) -> bool:
    return outgoing_email_send(pk=pk)


@shared_task
def flush_outgoing_email() -> int:
    return outgoing_email_flush()
