from celery import shared_task

from .models import Department
from .services import department_sync_permissions
from .sod import sod_findings_scan


@shared_task
def sync_department_permissions() -> int:
    """Requester entries start and end on dates: each night, give and take the department
    permission that follows them (filing itself always checks the dates)."""
    count = 0
    for department in Department.objects.all():
        department_sync_permissions(department=department)
        count += 1
    return count


@shared_task
def scan_sod() -> tuple[int, int]:
    """Each night: keep every separation-of-duties violation among existing accounts as an open
    finding, and every account administered by an end user of its system or by its holder (S3.2c)
    as a finding; resolve those that are gone (3.2). Returns (found, resolved)."""
    return sod_findings_scan()


@shared_task
def temporary_grants_daily() -> dict[str, int]:
    """Temporary access (Definitions: under 30 days): warn a week and a day before its end, and at
    00:00, city time, on its end date remove the grant and ask ITSA to close the account."""
    from .expiry import temporary_grants_daily as run

    return run().counts()
