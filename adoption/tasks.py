"""The import page's work, done by a worker: checking an upload and importing it (adoption.uploads)."""

from celery import shared_task


@shared_task
def check_upload(upload_id: int) -> str:
    from .uploads import upload_check

    return upload_check(upload_id=upload_id).status


@shared_task
def import_upload(upload_id: int) -> str:
    from .uploads import upload_import_run

    return upload_import_run(upload_id=upload_id).status
