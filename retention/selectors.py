"""The reads of retention extensions (Section 3.11): who sees which, which are in force, and the
retention each system keeps. Rules live in retention.services."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import SurveillanceSystem, User
from access_requests.models import DepartmentAccess

from .models import RetentionExtension


BIOMETRIC_FLAG = "Biometric data (3.12): kept only for the minimum period of its use; no extension covers it."


def biometric_exclusion(systems) -> str:
    """The plain words an extension's page, mails and audit record carry when it names a biometric
    system: the extension covers that system's surveillance data, never its biometric data (S3.12)."""
    names = sorted(str(system) for system in systems if system.uses_biometrics)
    if not names:
        return ""
    listed = ", ".join(names)
    return (f"This extension does not cover the biometric data of {listed}: under Section 3.12 biometric data "
            f"is kept only for the minimum period of time its intended or permissible use needs. "
            f"It covers only the surveillance data of {'that system' if len(names) == 1 else 'those systems'}.")


def retention_systems_for(user: User) -> QuerySet[SurveillanceSystem]:
    """The systems the person may name in a request: every system for ITSA; for a department head,
    those their department holds department access to."""
    if not user.is_authenticated:
        return SurveillanceSystem.objects.none()
    if user.roles.is_itsa:
        return SurveillanceSystem.objects.all()
    if user.roles.is_head:
        return SurveillanceSystem.objects.filter(pk__in=DepartmentAccess.objects.filter(
            department__in=user.roles.headed_departments, status=DepartmentAccess.Status.GRANTED,
        ).values("system"))
    return SurveillanceSystem.objects.none()


def retention_extensions_visible_to(user: User) -> QuerySet[RetentionExtension]:
    """The two directors, the Mayor's designees, ITSA and oversight see every extension; a department head sees
    the ones they asked for; nobody else sees any."""
    if not user.is_authenticated:
        return RetentionExtension.objects.none()
    roles = user.roles
    if (roles.is_safety_director or roles.is_operations_director or roles.is_designee
            or roles.reads_every_department):
        return RetentionExtension.objects.all()
    if roles.is_head:
        return RetentionExtension.objects.filter(requested_by=user)
    return RetentionExtension.objects.none()


def may_see_retention(user: User) -> bool:
    """Whether the retention pages exist for the person at all."""
    if not user.is_authenticated:
        return False
    roles = user.roles
    return (roles.is_safety_director or roles.is_operations_director or roles.is_designee
            or roles.reads_every_department or roles.is_head)


def in_force(today: date | None = None) -> Q:
    """Granted extensions whose days have begun and not ended (00:00, city time, on `ends_on`)."""
    today = today or timezone.localdate()
    return Q(status=RetentionExtension.Status.GRANTED, starts_on__lte=today, ends_on__gt=today)


@dataclass
class SystemRetention:
    system: SurveillanceSystem
    days: int
    extension: RetentionExtension | None
    biometric_flag: str
    # The minimum period the system keeps its biometric data (S3.12); None for other systems.
    biometric_retention_days: int | None = None

    @property
    def is_extended(self) -> bool:
        return self.extension is not None


def retention_by_system(*, today: date | None = None) -> list[SystemRetention]:
    """For every surveillance system, the retention in force: 30 days, or the longest extension in
    force (S3.11); a biometric system carries the flag of 3.12 and its minimum retention."""
    today = today or timezone.localdate()
    best: dict[int, RetentionExtension] = {}
    for extension in RetentionExtension.objects.filter(in_force(today)).prefetch_related("systems"):
        for system in extension.systems.all():
            held = best.get(system.pk)
            if held is None or (extension.retention_days, extension.ends_on) > (held.retention_days, held.ends_on):
                best[system.pk] = extension
    rows = []
    for system in SurveillanceSystem.objects.order_by("name"):
        extension = best.get(system.pk)
        rows.append(SystemRetention(
            system=system, days=extension.retention_days if extension else RetentionExtension.DEFAULT_DAYS, extension=extension,
            biometric_flag=BIOMETRIC_FLAG if system.uses_biometrics else "",
            biometric_retention_days=system.biometric_retention_days if system.uses_biometrics else None,
        ))
    return rows
