"""Reads of validations and user audits, scoped to what a user may see."""

from datetime import date

from django.conf import settings
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.models import Department, Grant, User
from accounts.selectors import department_ids_for, departments_for
from portal.models import PermissibleUse
from access_requests.models import AccessRequest

from .models import Validation, ValidationItem

Decision = ValidationItem.Decision


def _sees_every_department(user: User) -> bool:
    # ITSA orders user audits of any department (S3.5d); the Mayor's designee receives the escalations;
    # oversight reads them all.
    return user.roles.reads_every_department or user.roles.is_designee


def validations_visible_to(user: User) -> QuerySet[Validation]:
    """The head and the authorized requesters see their departments' validations; ITSA and the
    Mayor's designee see every one."""
    if not user.is_authenticated:
        return Validation.objects.none()
    if _sees_every_department(user):
        return Validation.objects.all()
    return Validation.objects.filter(department__in=department_ids_for(user))


def departments_under_validation_for(user: User) -> QuerySet[Department]:
    """The departments whose schedule of validations the user follows."""
    if not user.is_authenticated:
        return Department.objects.none()
    if _sees_every_department(user):
        return Department.objects.all()
    return departments_for(user)


def _progress_counts(prefix: str = "") -> dict:
    """How many items, how many decided and how many kept: from a validation (`prefix="items__"`) or
    from the items themselves."""
    items = f"{prefix}pk" if not prefix else prefix.removesuffix("__")
    return {
        "item_count": Count(items),
        "decided_count": Count(items, filter=~Q(**{f"{prefix}decision": Decision.PENDING})),
        "kept_count": Count(items, filter=Q(**{f"{prefix}decision": Decision.KEEP})),
    }


def with_progress(validations: QuerySet[Validation]) -> QuerySet[Validation]:
    """Each validation with how many items it has, how many are decided and how many kept."""
    return validations.annotate(**_progress_counts("items__"))


def with_progress_of(validation: Validation) -> Validation:
    """One validation with the same counts as with_progress(), read from its items alone: grouping
    the validation's joined rows by its thousands of items took tens of milliseconds."""
    counts = ValidationItem.objects.filter(validation=validation).aggregate(**_progress_counts())
    for name, value in counts.items():
        setattr(validation, name, value)
    return validation


def open_validations(user: User, *, today: date, q: str = "") -> QuerySet[Validation]:
    """Open validations and user audits with their progress: overdue ones first, then by due date."""
    validations = validations_visible_to(user).filter(status__in=Validation.OPEN_STATUSES)
    if q:
        validations = validations.filter(Q(department__name__icontains=q) | Q(department__code__icontains=q))
    return (
        with_progress(validations)
        .select_related("department", "system")
        .annotate(overdue=ExpressionWrapper(Q(status=Validation.Status.OPEN, due_date__lt=today),
                                           output_field=BooleanField()))
        .order_by("-overdue", "due_date", "department__name", "pk")
    )


def completed_validations(user: User, *, q: str = "") -> QuerySet[Validation]:
    """Completed validations and user audits, the latest first: their pages and attestations stay at hand."""
    validations = validations_visible_to(user).filter(status=Validation.Status.COMPLETE)
    if q:
        validations = validations.filter(Q(department__name__icontains=q) | Q(department__code__icontains=q))
    return validations.select_related("department", "system", "signed_off_by").order_by("-completed_at", "-pk")


def department_schedule(user: User, *, q: str = "") -> QuerySet[Department]:
    """The departments with when their last annual validation was completed and the due date of the
    one open now, if any."""
    annual = Validation.objects.filter(department=OuterRef("pk"), kind=Validation.Kind.ANNUAL)
    departments = departments_under_validation_for(user)
    if q:
        departments = departments.filter(Q(name__icontains=q) | Q(code__icontains=q))
    return departments.select_related("head").annotate(
        last_completed=Subquery(annual.filter(completed_at__isnull=False)
                                .order_by("-completed_at").values("completed_at")[:1]),
        open_annual_due=Subquery(annual.filter(status__in=Validation.OPEN_STATUSES)
                                 .order_by("-opened_at").values("due_date")[:1]),
    ).order_by("name", "pk")


# --- Removals and suspensions on their way -----------------------------------------------------

# The work that takes a grant away: while one is open, the grant cannot be kept (audits.services).
OUTGOING_ACTIONS = (AccessRequest.Action.REMOVE, AccessRequest.Action.SUSPEND)


def outgoing_requests() -> QuerySet[AccessRequest]:
    """Removals and suspensions still open: filed or with ITSA, not yet completed, returned, declined
    or withdrawn. A status-change report and a revocation queue them."""
    return AccessRequest.objects.filter(action__in=OUTGOING_ACTIONS, status__in=AccessRequest.OPEN_STATUSES)


def _first_outgoing(requests) -> AccessRequest | None:
    # A removal says more than a suspension: it is the one named when both are open.
    return min(requests, key=lambda r: (r.action != AccessRequest.Action.REMOVE, r.submitted_at, r.pk), default=None)


def outgoing_request_for(grant: Grant) -> AccessRequest | None:
    """The open removal (or else suspension) of the grant, if any: from the items' prefetch
    (validation_items) when there is one, else one query."""
    if hasattr(grant, "outgoing_requests"):
        return _first_outgoing(grant.outgoing_requests)
    return _first_outgoing(outgoing_requests().filter(grant=grant))


def days_unused(grant: Grant, *, today: date) -> int:
    """Days since the grant was last used on its system, counted as the nightly grant check counts
    them (access_requests.hygiene): an account never used counts from the day it was provisioned."""
    last = grant.last_used_at or grant.provisioned_at
    return (today - timezone.localdate(last)).days


def unused_too_long(grant: Grant, *, today: date) -> bool:
    """Not used for GRANT_HYGIENE_UNUSED_DAYS days or more: the nightly check's limit, so the page and
    the check's report name the same grants."""
    return days_unused(grant, today=today) >= settings.GRANT_HYGIENE_UNUSED_DAYS


def validation_items(validation: Validation) -> QuerySet[ValidationItem]:
    """The items of one validation with everything the items table shows, in a fixed number of queries,
    in the order they were made: by person, then system, when the validation opened (audits.services
    makes them in that order). A fixed order, so the pages of the table neither skip nor repeat an
    item, and one that needs no sort by name of a department's thousands of items. Each grant carries
    its open removals and suspensions (`grant.outgoing_requests`, read by outgoing_request_for), all
    in one query."""
    return (
        validation.items.select_related("grant__person", "grant__system", "decided_by", "follow_up")
        # How the grant's uses meet their conditions (T1c), in the items' own query.
        .annotate(condition_statement=AccessRequest.grant_statement(OuterRef("grant_id")))
        .prefetch_related(Prefetch("grant__permissible_uses",
                                   queryset=PermissibleUse.objects.select_related("intended_use")),
                          Prefetch("grant__requests", queryset=outgoing_requests().order_by("pk"),
                                   to_attr="outgoing_requests"))
        .order_by("pk")
    )


# What the items table of a validation can be narrowed to; "all" is the default.
ITEM_SHOW_CHOICES = (("all", "Every access"), ("pending", "Still to decide"), ("decided", "Decided"))
ITEM_SHOWS = frozenset(value for value, _ in ITEM_SHOW_CHOICES)


def validation_items_matching(validation: Validation, *, q: str = "", show: str = "all") -> QuerySet[ValidationItem]:
    """The items of one validation whose person (name or e-mail), account name or system matches `q`,
    narrowed to those still to decide (`pending`) or those decided (`decided`); any other `show` is all."""
    items = validation_items(validation)
    if show == "pending":
        items = items.filter(decision=Decision.PENDING)
    elif show == "decided":
        items = items.exclude(decision=Decision.PENDING)
    if q:
        items = items.filter(
            Q(grant__person__full_name__icontains=q) | Q(grant__person__email__icontains=q)
            | Q(grant__account_name__icontains=q) | Q(grant__system__name__icontains=q)
        )
    return items


def heads_own_pending_count(validation: Validation) -> int:
    """How many of the head's own accesses are still to decide: the Mayor's designee decides them, so
    keeping all the others leaves them pending."""
    head_id = validation.department.head_id
    if head_id is None:
        return 0
    return validation.items.filter(decision=Decision.PENDING, grant__person_id=head_id).count()


def undecided_with_outgoing_count(validation: Validation) -> int:
    """How many items still to decide have a removal or suspension open: keeping all leaves them,
    since they cannot be kept (audits.services.validation_keep_all). The head's own are not counted:
    keeping all leaves them for the designee anyway."""
    items = validation.items.filter(decision=Decision.PENDING, grant__status__in=Grant.LIVE_STATUSES).filter(
        Exists(outgoing_requests().filter(grant=OuterRef("grant")))
    )
    head_id = validation.department.head_id
    if head_id is not None:
        items = items.exclude(grant__person_id=head_id)
    return items.count()
