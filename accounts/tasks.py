from celery import shared_task

from .models import Department
from .services import department_sync_permissions


@shared_task
def sync_department_permissions() -> int:
    """Requester entries start and end on dates: each night, give and take the department
    permission that follows them (filing itself always checks the dates)."""
    count = 0
    for department in Department.objects.all():
        department_sync_permissions(department=department)
        count += 1
    return count
