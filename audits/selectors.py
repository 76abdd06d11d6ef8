"""Reads of validations and user audits, scoped to what a user may see."""

from datetime import date

from django.db.models import BooleanField, Count, ExpressionWrapper, OuterRef, Prefetch, Q, QuerySet, Subquery

from accounts.models import Department, User
from accounts.selectors import department_ids_for, departments_for
from portal.models import PermissibleUse

from .models import Validation, ValidationItem

Decision = ValidationItem.Decision


def _sees_every_department(user: User) -> bool:
    # ITSA orders user audits of any department (S3.5d); the Mayor's designee receives the escalations.
    return user.roles.is_itsa or user.roles.is_designee


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


def validation_items(validation: Validation) -> QuerySet[ValidationItem]:
    """The items of one validation with everything the items table shows, in a fixed number of queries,
    in the order they were made: by person, then system, when the validation opened (audits.services
    makes them in that order). A fixed order, so the pages of the table neither skip nor repeat an
    item, and one that needs no sort by name of a department's thousands of items."""
    return (
        validation.items.select_related("grant__person", "grant__system", "decided_by", "follow_up")
        .prefetch_related(Prefetch("grant__permissible_uses",
                                   queryset=PermissibleUse.objects.select_related("intended_use")))
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
