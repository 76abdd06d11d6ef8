"""The reads of waivers (Section 5.1): who sees which, and which are in force. Rules live in waivers.services."""

from datetime import date

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from accounts.models import (
    Department, Grant, User,
)
from accounts.selectors import department_ids_for

from .models import Waiver


Status = Waiver.Status


OPEN_STATUSES = (Status.REQUESTED, Status.AWAITING_MAYOR)


def departments_for_waivers(user: User) -> list[Department]:
    """The departments the user may ask a waiver for: the ones they head; every one for a director."""
    if not user.is_authenticated:
        return []
    if user.roles.is_director:
        return list(Department.objects.order_by("name"))
    return user.roles.headed_departments


def grants_for_waivers(department: Department | None) -> QuerySet[Grant]:
    """The department's live grants, those a waiver may be sent for (the service refuses a staff role)."""
    if department is None:
        return Grant.objects.none()
    return (Grant.objects.filter(department=department, status__in=Grant.LIVE_STATUSES)
            .select_related("person", "system").order_by("person__full_name", "system__name", "pk"))


def end_user_grants(grants: QuerySet[Grant]) -> QuerySet[Grant]:
    """The grants a waiver may touch: separation of duties (S3.2b) is never waivable, so no staff role."""
    return grants.exclude(role__in=Grant.STAFF_ROLES)


def waivers_visible_to(user: User) -> QuerySet[Waiver]:
    """The department's head and authorized requesters see its waivers; the directors, the Mayor's
    designees, ITSA and oversight see every one; nobody else sees any."""
    if not user.is_authenticated:
        return Waiver.objects.none()
    roles = user.roles
    if roles.is_director or roles.is_designee or roles.reads_every_department:
        return Waiver.objects.all()
    return Waiver.objects.filter(department__in=department_ids_for(user))


def in_force_q(today: date) -> Q:
    """The waivers in force on `today` (the queryset form of Waiver.is_in_force); every query of the
    waivers in force goes through it."""
    return Q(status=Status.GRANTED, starts_on__lte=today, ends_on__gt=today)


def waivers_in_force_for_grant(grant: Grant, *, today: date | None = None) -> QuerySet[Waiver]:
    """The waivers in force on the grant, the soonest to end first (its page lists them)."""
    today = today or timezone.localdate()
    return Waiver.objects.filter(in_force_q(today), grants=grant).select_related("intended_use", "permissible_use").order_by(
        "ends_on", "pk")


def waivers_for_the_same_use(waiver: Waiver) -> QuerySet[Waiver]:
    """The other waivers of the waiver's department for the same row of Table 1 and the same
    permissible use (none on both counts as the same), oldest first: where waivers.services looks
    for those that chain with it (S5.1c). Whatever their deviation says in words."""
    return Waiver.objects.filter(
        department_id=waiver.department_id, intended_use_id=waiver.intended_use_id,
        permissible_use_id=waiver.permissible_use_id,  # None is read as IS NULL
    ).exclude(pk=waiver.pk).order_by("starts_on", "pk")


def grant_ids_of_waivers(waiver_ids) -> dict[int, set[int]]:
    """The grants each waiver names, by waiver id (a waiver naming none is absent)."""
    found: dict[int, set[int]] = {}
    for waiver_id, grant_id in Waiver.grants.through.objects.filter(waiver_id__in=list(waiver_ids)).values_list(
            "waiver_id", "grant_id"):
        found.setdefault(waiver_id, set()).add(grant_id)
    return found


def waivers_in_force_first(waivers: QuerySet[Waiver], *, today: date | None = None) -> QuerySet[Waiver]:
    """Those in force first, then those waiting for a decision, then the rest; newest first in each."""
    today = today or timezone.localdate()
    return waivers.annotate(
        rank=Case(
            When(in_force_q(today), then=Value(0)),
            When(status__in=OPEN_STATUSES, then=Value(1)),
            default=Value(2), output_field=IntegerField(),
        )
    ).order_by("rank", "-requested_at", "-pk")
