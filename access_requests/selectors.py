"""Reads of requests, scoped to what a user may see."""

from django.db.models import F, Q, QuerySet

from accounts.models import Department, Grant, SurveillanceSystem, User
from accounts.selectors import department_ids_for, department_rows_visible_to

from .models import AccessRequest, DepartmentAccess

def access_requests_visible_to(user: User) -> QuerySet[AccessRequest]:
    """Department people see their departments' requests. ITSA sees every request: it receives the
    approved ones (S3.5a) and may audit any department at any time (S3.5d), so it reads the rest too.
    The designee sees the requests they approve: a head's own, and those of a department with no head."""
    if not user.is_authenticated:
        return AccessRequest.objects.none()
    if user.roles.reads_every_department:
        return AccessRequest.objects.all()
    scope = Q(department__in=department_ids_for(user))
    if user.roles.is_designee:
        scope |= Q(person_id=F("department__head_id")) | Q(department__head__isnull=True)
    return AccessRequest.objects.filter(scope)


def systems_for_requests(departments) -> QuerySet[SurveillanceSystem]:
    """The systems a request of these departments may name: those a department is authorized for
    (S3.4a), and those its people still hold access to, so that access can always be removed."""
    ids = [department.pk for department in departments]
    return SurveillanceSystem.objects.filter(
        Q(pk__in=DepartmentAccess.objects.filter(department__in=ids, status=DepartmentAccess.Status.GRANTED)
          .values("system"))
        | Q(pk__in=Grant.objects.filter(department__in=ids, status__in=Grant.LIVE_STATUSES).values("system"))
    ).order_by("name")


def people_for_requests(departments) -> QuerySet[User]:
    """Whom a request of these departments may name: their people, whatever their status, so that
    the access of somebody who left can still be removed."""
    return User.objects.filter(department__in=departments).order_by("full_name", "email")


def itsa_queue(user: User) -> QuerySet[AccessRequest]:
    if not user.is_authenticated or not user.roles.is_itsa:
        return AccessRequest.objects.none()
    return AccessRequest.objects.filter(status=AccessRequest.Status.WITH_ITSA).order_by("approved_at", "pk")


def department_access_visible_to(user: User) -> QuerySet[DepartmentAccess]:
    if not user.is_authenticated:
        return DepartmentAccess.objects.none()
    if user.roles.is_designee or user.roles.is_oversight:
        return DepartmentAccess.objects.all()
    scope = Q(department__in=department_ids_for(user))
    if user.roles.is_itsa:
        scope |= Q(status=DepartmentAccess.Status.GRANTED)
    return DepartmentAccess.objects.filter(scope)


def requests_for_person_visible_to(user: User, person: User) -> QuerySet[AccessRequest]:
    """The person's requests on their page: those of the departments the user acts for; all for ITSA."""
    return department_rows_visible_to(user, AccessRequest.objects.filter(person=person))


def requests_for_grant_visible_to(user: User, grant: Grant) -> QuerySet[AccessRequest]:
    """The requests behind a grant, on its page, scoped as a person's are."""
    return department_rows_visible_to(user, AccessRequest.objects.filter(grant=grant))


def department_access_granted(department: Department) -> QuerySet[DepartmentAccess]:
    """The systems the department may use (3.4): its granted department access."""
    return DepartmentAccess.objects.filter(department=department, status=DepartmentAccess.Status.GRANTED)


def access_requests_matching(queryset: QuerySet[AccessRequest], q: str) -> QuerySet[AccessRequest]:
    """Narrow a list by reference, the person's name or e-mail, or the system's name."""
    q = (q or "").strip()
    if not q:
        return queryset
    # The people and systems that match are found first, each in its own table, where a trigram
    # index finds the people (migration 0005): an OR across the joined tables made PostgreSQL read
    # every person of the city with each search.
    people = User.objects.filter(Q(full_name__icontains=q) | Q(email__icontains=q)).values("pk")
    systems = SurveillanceSystem.objects.filter(name__icontains=q).values("pk")
    return queryset.filter(Q(reference__icontains=q) | Q(person__in=people) | Q(system__in=systems))
