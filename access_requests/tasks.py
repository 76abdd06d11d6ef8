"""Thin tasks of the requests app. Each calls one service."""

from celery import shared_task

from .hygiene import grant_hygiene_run


@shared_task
def grant_hygiene() -> int:
    """Each night: report the grants that should not exist and, by setting, suspend them (once).
    Returns how many findings there were."""
    return len(grant_hygiene_run().findings)


@shared_task
def apply_hr_roster() -> str:
    """Each morning: apply the newest roster of HR_ROSTER_DIR. The folder is the setting's, never a
    path passed in. A refused roster has already been mailed to ITSA and recorded."""
    from django.conf import settings

    from .roster import RosterRefused, roster_apply, roster_in_drop_folder

    if not settings.HR_ROSTER_DIR:
        return "HR_ROSTER_DIR is not set: no roster."
    try:
        result = roster_apply(path=roster_in_drop_folder(settings.HR_ROSTER_DIR))
    except RosterRefused as refused:
        return str(refused)
    waiting = f" Pending from {result.pending_from:%Y-%m-%d}." if result.pending_from else ""
    if result.already_applied:
        return f"{result.file_name} was already applied: nothing changed.{waiting}"
    return f"{result.file_name} applied.{waiting}"
