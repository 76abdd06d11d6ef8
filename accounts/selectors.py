"""Reads, scoped to what a user may see. Views call these; they never filter by hand."""

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from guardian.shortcuts import get_objects_for_user

from portal.audit import audit_record

from .models import AuthorizedRequester, Department, Grant, User


def departments_for(user: User) -> QuerySet[Department]:
    """Departments whose people and requests the user acts on: the guardian object permission,
    never a model-wide one (accept_global_perms would return every department)."""
    if not user.is_authenticated:
        return Department.objects.none()
    return Department.objects.filter(pk__in=department_ids_for(user))


def _permitted_departments(user: User) -> QuerySet[Department]:
    return get_objects_for_user(
        user, "accounts.act_for_department", klass=Department, accept_global_perms=False, with_superuser=False
    )


def department_ids_for(user: User) -> list[int]:
    """The ids of departments_for(user), as a list: PostgreSQL cannot estimate the permission
    subquery, and filtering on it read every request of the city (bench/README.md, "Pages under load").
    Read once per request: they are kept on the person's roles (accounts.models.Roles), which live as
    long as the request's user, like the roles themselves."""
    if not user.is_authenticated:
        return []
    kept = user.roles.kept
    if "department_ids" not in kept:
        kept["department_ids"] = list(_permitted_departments(user).values_list("pk", flat=True))
    return list(kept["department_ids"])


def emails_of(group: str) -> list[str]:
    """The e-mail addresses of the active members of a city-wide role group (ITSA, the designees…)."""
    return list(User.objects.filter(groups__name=group, is_active=True).values_list("email", flat=True))


def people_visible_to(user: User) -> QuerySet[User]:
    if not user.is_authenticated:
        return User.objects.none()
    if user.roles.reads_every_department:
        return User.objects.all()
    departments = department_ids_for(user)
    # A third party's people work for no department: the sponsoring department's head and requesters
    # see those who hold, or held, a grant under its sharing agreements (3.7). Such a grant is
    # view-only, and its department is the agreement's sponsor.
    return User.objects.filter(
        Q(department__in=departments)
        | Q(pk__in=Grant.objects.filter(department__in=departments, view_only=True).values("person"))
    )


def grants_visible_to(user: User) -> QuerySet[Grant]:
    if not user.is_authenticated:
        return Grant.objects.none()
    if user.roles.reads_every_department:
        return Grant.objects.all()
    return Grant.objects.filter(department__in=department_ids_for(user))


def own_grants(user: User) -> QuerySet[Grant]:
    """The person's own live access, which every signed-in person may see, whatever their role."""
    if not user.is_authenticated:
        return Grant.objects.none()
    return Grant.objects.filter(person=user, status__in=Grant.LIVE_STATUSES).select_related(
        "system", "department").order_by("system__name", "role")


def requesters_visible_to(user: User) -> QuerySet[AuthorizedRequester]:
    if not user.is_authenticated:
        return AuthorizedRequester.objects.none()
    if user.roles.reads_every_department:
        return AuthorizedRequester.objects.all()
    return AuthorizedRequester.objects.filter(department__in=department_ids_for(user))


def departments_visible_to(user: User) -> QuerySet[Department]:
    """Departments whose page the user may open: every one for ITSA, otherwise those they act for."""
    if not user.is_authenticated:
        return Department.objects.none()
    if user.roles.reads_every_department:
        return Department.objects.all()
    return departments_for(user)


def department_rows_visible_to(user: User, rows: QuerySet) -> QuerySet:
    """The rows of a department-owned queryset (a person's access requests, a grant's requests) that
    the user may see: every row for ITSA, otherwise the rows of the departments they act for."""
    if not user.is_authenticated:
        return rows.none()
    if user.roles.reads_every_department:
        return rows
    return rows.filter(department__in=department_ids_for(user))


def people_list(user: User, *, q: str = "", department: Department | None = None) -> QuerySet[User]:
    """The people list: visible people with their department and the number of live grants."""
    people = people_visible_to(user).select_related("department").annotate(
        live_grant_count=Count("grants", filter=Q(grants__status__in=Grant.LIVE_STATUSES), distinct=True)
    )
    if q:
        people = people.filter(Q(full_name__icontains=q) | Q(email__icontains=q) | Q(title__icontains=q))
    if department is not None:
        people = people.filter(department=department)
    return people.order_by("full_name", "email")


def requesters_list(user: User, *, q: str = "") -> QuerySet[AuthorizedRequester]:
    """The requester lists, searchable by department or person, grouped by department."""
    entries = requesters_visible_to(user).select_related("department", "person", "added_by")
    if q:
        entries = entries.filter(
            Q(department__name__icontains=q) | Q(department__code__icontains=q)
            | Q(person__full_name__icontains=q) | Q(person__email__icontains=q)
        )
    return entries.order_by("department__name", "person__full_name", "-start_date", "pk")


def require_audit_reader_page(user: User, what: str) -> None:
    """The audit log (S3.10): ITSA, and oversight, which reads it and changes nothing. For everyone
    else the page does not exist, and the attempt is on the audit trail."""
    if not user.roles.reads_every_department:
        audit_record(actor=user, action=f"{what}.view", target=what, outcome="denied")
        raise Http404("No such page.")


def require_itsa_page(user: User, what: str) -> None:
    """ITSA's pages (requester lists, locked accounts, the audit log): for everyone else the page
    does not exist, and the attempt is on the audit trail."""
    if not user.roles.is_itsa:
        audit_record(actor=user, action=f"{what}.view", target=what, outcome="denied")
        raise Http404("No such page.")


def get_or_404_logged(queryset: QuerySet, *, user: User, pk, what: str):
    """Return the object if the user may see it; otherwise answer 404 and record the attempt."""
    try:
        return queryset.get(pk=pk)
    except (ValueError, TypeError):
        # Not an id at all (a query-string value such as "abc"): nothing to look up or record.
        raise Http404(f"No {what} here.") from None
    except queryset.model.DoesNotExist:
        if queryset.model._default_manager.filter(pk=pk).exists():
            audit_record(actor=user, action=f"{what.replace(' ', '_')}.view", target=f"{what} {pk}", outcome="denied")
        raise Http404(f"No {what} here.") from None



def may_export_rosters(user: User) -> bool:
    """Who downloads the rosters (who holds which role on a system; a department's people and
    grants): those whose pages show grants, ITSA and oversight for every department, heads and
    requesters for their own. What each download holds is scoped as those pages are."""
    return user.roles.reads_every_department or user.roles.works_for_a_department


def people_for_requester_lists() -> QuerySet[User]:
    """Whom ITSA may put on a department's list of authorized requesters: active people of a department
    (the service checks that it is the department named)."""
    return (User.objects.filter(is_active=True, department__isnull=False).select_related("department")
            .order_by("full_name", "email"))


def people_for_oversight() -> QuerySet[User]:
    """Whom ITSA may propose for an oversight appointment: any active person (the service says who may not)."""
    return User.objects.filter(is_active=True).select_related("department").order_by("full_name", "email")
