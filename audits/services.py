"""Validations and user audits: opening them, deciding items, signing off, reminders, non-response.

Sections 3.4 (each department audits its end users at least once a year; the head validates them)
and 3.5 (ITSA may order a user audit at any time, without notice).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accounts.models import DESIGNEE_GROUP, ITSA_GROUP, Department, Grant, SurveillanceSystem, User
from portal.audit import audit_record, audit_refusal, lock_audit_chain, service_transaction
from portal.emails import email_send
from portal.errors import NotAllowed, RuleViolation
from security.services import grant_suspend
from access_requests.models import AccessRequest
from access_requests.services import access_request_queue_for_itsa

from .models import ReminderSent, Validation, ValidationItem
from .selectors import outgoing_request_for, outgoing_requests

Decision = ValidationItem.Decision


def _setting(name: str, default):
    return getattr(settings, name, default)


# --- When a department is due -------------------------------------------------------------------

def next_due_on(*, last_completed: date | None, today: date) -> date:
    """The day a department's next annual validation must open: twelve months after the last one
    was completed, less the lead time (29 February falls back to 28 February). Never validated: now."""
    if last_completed is None:
        return today
    lead = timedelta(days=_setting("VALIDATION_LEAD_DAYS", 30))
    return last_completed + relativedelta(years=1) - lead


def sign_off_due_on(*, opened_on: date) -> date:
    """The day by which a validation or user audit opened on `opened_on` must be signed off."""
    return opened_on + timedelta(days=_setting("VALIDATION_DUE_DAYS", 30))


def departments_due(*, today: date) -> list[Department]:
    """Departments with live grants, no annual validation open, and none completed recently enough."""
    annual = Validation.objects.filter(department=OuterRef("pk"), kind=Validation.Kind.ANNUAL)
    rows = (
        Department.objects.filter(Exists(Grant.objects.filter(department=OuterRef("pk"),
                                                               status__in=Grant.LIVE_STATUSES)))
        .exclude(Exists(annual.filter(status__in=Validation.OPEN_STATUSES)))
        .annotate(last_completed=Subquery(annual.filter(completed_at__isnull=False)
                                          .order_by("-completed_at").values("completed_at")[:1]))
        .select_related("head")
        .order_by("name")
    )
    due = []
    for department in rows:
        last = timezone.localtime(department.last_completed).date() if department.last_completed else None
        if next_due_on(last_completed=last, today=today) <= today:
            due.append(department)
    return due


def _grants_under_review(validation: Validation) -> QuerySet[Grant]:
    grants = Grant.objects.filter(department=validation.department, status__in=Grant.LIVE_STATUSES)
    if validation.system_id:
        grants = grants.filter(system=validation.system)
    return grants


# Items are made in the order the items table shows them (person, then system): the table then pages
# by the items' ids and never sorts a large validation by name (bench/README.md).
ITEM_ORDER = ("person__full_name", "system__name", "pk")


def _fill_items(validation: Validation) -> int:
    """One item for every live grant under review that has none yet. Safe to repeat: a run that
    died halfway is finished by the next, with no item missing and none doubled. Two runs finishing
    the same validation take turns on its row, so the second sees what the first wrote."""
    Validation.objects.select_for_update().get(pk=validation.pk)
    have = ValidationItem.objects.filter(validation=validation).values("grant")
    missing = [ValidationItem(validation=validation, grant_id=pk)
               for pk in _grants_under_review(validation).exclude(pk__in=have)
               .order_by(*ITEM_ORDER).values_list("pk", flat=True)]
    if missing:
        bulk_create_with_history(missing, ValidationItem, batch_size=1000, default_user=None)
    return len(missing)


# --- Opening -------------------------------------------------------------------------------------

def _open(*, department: Department, kind: str, today: date, by: User | None,
          system: SurveillanceSystem | None = None) -> tuple[Validation, bool]:
    due = sign_off_due_on(opened_on=today)
    try:
        with transaction.atomic():
            validation = Validation.objects.create(
                kind=kind, department=department, system=system, period=today, due_date=due, opened_by=by
            )
        created = True
    except IntegrityError:
        # Another run opened it first (the unique constraints decide): finish its items if needed.
        validation = Validation.objects.get(department=department, kind=kind, status__in=Validation.OPEN_STATUSES)
        created = False
    _fill_items(validation)
    return validation, created


def open_due_validations(*, today: date | None = None) -> list[Validation]:
    """Open the annual validations that have come due (the daily task and the command call this).
    Each department in its own transaction, so a run stopped halfway keeps what it finished."""
    today = today or timezone.localdate()
    opened = []
    for department in departments_due(today=today):
        with transaction.atomic():
            lock_audit_chain()
            validation, created = _open(department=department, kind=Validation.Kind.ANNUAL, today=today, by=None)
            if created:
                audit_record(actor=None, action="validation.open", target=validation)
                head = department.head
                email_send("validation-opened", to=[head.email] if head else [], context={"v": validation})
                opened.append(validation)
    # Validations whose items a stopped run left unfinished.
    for validation in Validation.objects.filter(kind=Validation.Kind.ANNUAL, status=Validation.Status.OPEN):
        with transaction.atomic():
            _fill_items(validation)
    return opened


@service_transaction
def user_audit_open(*, by: User, department: Department, system: SurveillanceSystem | None = None) -> Validation:
    """ITSA orders a user audit of a department (or of one system's grants in it), without notice (S3.5d)."""
    if not by.roles.is_itsa:
        audit_refusal(actor=by, action="user_audit.open", target=department)
        raise NotAllowed("Only ITSA administrators can order a user audit.")
    return _user_audit_open(by=by, department=department, system=system)


@service_transaction
def user_audit_open_for_system(*, by: User, system: SurveillanceSystem) -> list[Validation]:
    """ITSA orders a user audit of one system across departments: one audit for each department
    holding live grants on it, each decided by its own head (S3.5d)."""
    if not by.roles.is_itsa:
        audit_refusal(actor=by, action="user_audit.open", target=system)
        raise NotAllowed("Only ITSA administrators can order a user audit.")
    departments = Department.objects.filter(
        pk__in=Grant.objects.filter(system=system, status__in=Grant.LIVE_STATUSES).values("department")
    ).order_by("name")
    return [_user_audit_open(by=by, department=department, system=system) for department in departments]


def _user_audit_open(*, by: User, department: Department, system: SurveillanceSystem | None) -> Validation:
    # One order at a time per department, so a double submit finds the audit the first one opened.
    department = Department.objects.select_for_update().get(pk=department.pk)
    already = Validation.objects.filter(kind=Validation.Kind.USER_AUDIT, department=department, system=system,
                                        status=Validation.Status.OPEN).first()
    if already is not None:
        return already
    validation = Validation.objects.create(
        kind=Validation.Kind.USER_AUDIT, department=department, system=system, period=timezone.localdate(),
        due_date=sign_off_due_on(opened_on=timezone.localdate()), opened_by=by,
    )
    _fill_items(validation)
    audit_record(actor=by, action="user_audit.open", target=validation)
    return validation


# --- Deciding ------------------------------------------------------------------------------------

def may_decide(*, validation: Validation, user: User) -> bool:
    """The department's head at the time of deciding: a new or acting head takes over open items."""
    return validation.is_open and validation.department.head_id == user.pk and user.is_active


def decided_by_designee(item: ValidationItem) -> bool:
    """The head's own access is not the head's to keep: the Mayor's designee decides it, as the
    designee approves a head's request for their own access."""
    return item.grant.person_id == item.validation.department.head_id


def may_decide_item(*, item: ValidationItem, user: User) -> bool:
    """Who decides one item: nobody their own access; the designee the head's; the head the rest."""
    validation = item.validation
    if not (validation.is_open and user.is_active) or item.grant.person_id == user.pk:
        return False
    if decided_by_designee(item):
        return user.roles.is_designee
    return may_decide(validation=validation, user=user)


# --- Removals and suspensions already on their way -------------------------------------------------
#
# A head who reported a person as gone (access_requests.services.status_change_report), or revoked
# a grant before, has a removal or suspension open for it. Keeping that grant would attest to access
# the head has already asked ITSA to take away, so it cannot be kept:
# - with a removal open, the one decision left is to revoke, and the revocation takes that removal
#   as its follow-up rather than queueing a second one (a role change of access on its way out is
#   refused too);
# - with a suspension open, the head revokes (a removal, which goes further than the suspension) or
#   changes the role; or waits for ITSA to suspend the account, and then keeps it, suspended;
# - an item kept before the removal or suspension was filed may be decided again, as a revocation,
#   and the sign-off waits until it is: the attestation never lists such a grant as kept.

def outgoing_label(request: AccessRequest) -> str:
    """"Removal" or "Suspension": how a refusal and the page name the open request."""
    return "Removal" if request.action == AccessRequest.Action.REMOVE else "Suspension"


def _where(request: AccessRequest) -> str:
    return "already with ITSA" if request.is_with_itsa else "already filed, awaiting the head's approval"


def item_decisions(*, item: ValidationItem, outgoing: AccessRequest | None) -> tuple[str, ...]:
    """The decisions still open on an item, given the grant's open removal or suspension (None when
    there is none). Who may take them is may_decide_item's question, not this one."""
    if outgoing is None:
        return (Decision.KEEP, Decision.REVOKE, Decision.CHANGE_ROLE) if item.is_pending else ()
    if not item.is_pending:
        # Kept before the removal or suspension was filed: the keep no longer holds.
        return (Decision.REVOKE,) if item.decision == Decision.KEEP else ()
    if outgoing.action == AccessRequest.Action.REMOVE:
        return (Decision.REVOKE,)
    return (Decision.REVOKE, Decision.CHANGE_ROLE)


def _outgoing_refusal(*, decision: str, outgoing: AccessRequest) -> str:
    what = f"{outgoing_label(outgoing)} request {outgoing.reference} is {_where(outgoing)}"
    if decision == Decision.KEEP:
        if outgoing.action == AccessRequest.Action.REMOVE:
            return f"{what}: this access cannot be kept. Revoke it: the revocation is linked to that request."
        return (f"{what}: this access cannot be kept while the suspension is open. Revoke it, or keep it once ITSA "
                "has suspended it.")
    return f"{what}: this access can only be revoked, and the revocation is linked to that request."


def _close_ended(validation: Validation) -> None:
    """A grant removed meanwhile closes its item."""
    ValidationItem.objects.filter(validation=validation, decision=Decision.PENDING).exclude(
        grant__status__in=Grant.LIVE_STATUSES
    ).update(decision=Decision.CLOSED, decided_at=timezone.now())


@service_transaction
def validation_item_decide(*, item: ValidationItem, decision: str, by: User, reason: str = "",
                           new_role: str = "") -> ValidationItem:
    """The head's decision on one item (S3.4f): keep, revoke (a removal for ITSA) or change the role.
    A grant with a removal or suspension open cannot be kept: revoking it takes the open removal as
    its follow-up instead of queueing a second one (with a suspension open, the revocation queues the
    removal); a role change is refused while a removal is open; an item kept before the removal or
    suspension was filed may be revoked after all. See "Removals and suspensions already on their way"."""
    item = ValidationItem.objects.select_for_update().select_related("validation__department", "grant").get(pk=item.pk)
    validation = item.validation
    if not may_decide_item(item=item, user=by):
        audit_refusal(actor=by, action="validation.decide", target=item)
        if item.grant.person_id == by.pk:
            raise NotAllowed("Nobody decides their own access: the Mayor's designee decides a head's own access.")
        if decided_by_designee(item):
            raise NotAllowed("The head's own access is decided by the Mayor's designee.")
        raise NotAllowed(f"Only the head of {validation.department} decides the items of an open validation.")
    if decision not in (Decision.KEEP, Decision.REVOKE, Decision.CHANGE_ROLE):
        raise RuleViolation("Choose keep, revoke or change role.", field="decision")
    if item.decision == decision and (decision != Decision.CHANGE_ROLE or item.new_role == new_role):
        return item
    outgoing = outgoing_request_for(item.grant) if item.grant.is_live else None
    if not item.is_pending and decision not in item_decisions(item=item, outgoing=outgoing):
        raise RuleViolation(f"This item is already decided: {item.get_decision_display().lower()}.")
    if not item.grant.is_live:
        item.decision, item.decided_at = Decision.CLOSED, timezone.now()
        item.save(update_fields=["decision", "decided_at"])
        return item
    if outgoing is not None and decision not in item_decisions(item=item, outgoing=outgoing):
        message = _outgoing_refusal(decision=decision, outgoing=outgoing)
        audit_refusal(actor=by, action="validation.decide", target=item, outcome="refused", detail=message)
        raise RuleViolation(message, field="decision")
    reason = (reason or "").replace("\x00", "").strip()
    if len(reason) > 5000:
        raise RuleViolation("Keep the reason under 5000 characters.", field="reason")
    if decision == Decision.REVOKE:
        if not reason:
            raise RuleViolation("Write why this access is revoked.", field="reason")
        if outgoing is not None and outgoing.action == AccessRequest.Action.REMOVE:
            # The removal already asked for is this revocation's follow-up, whatever role it named.
            item.follow_up = outgoing
        else:
            item.follow_up = access_request_queue_for_itsa(
                grant=item.grant, action=AccessRequest.Action.REMOVE, role=item.grant.role, by=by,
                justification=revocation_justification(validation=validation, reason=reason),
            )
    elif decision == Decision.CHANGE_ROLE:
        if new_role not in Grant.Role.values or new_role == item.grant.role:
            raise RuleViolation("Choose the new role, different from the current one.", field="new_role")
        item.follow_up = access_request_queue_for_itsa(
            grant=item.grant, action=AccessRequest.Action.CHANGE, role=new_role, by=by,
            justification=f"Role changed in the {validation.get_kind_display().lower()} of {validation.period:%Y}. "
                          f"{reason}".strip(),
        )
        item.new_role = new_role
    item.decision, item.reason, item.decided_by, item.decided_at = decision, reason, by, timezone.now()
    item.save()
    audit_record(actor=by, action=f"validation.{decision}", target=item)
    return item


@dataclass(frozen=True)
class KeptAll:
    """What keeping all did: how many it kept, and the items it left because a removal or suspension
    of their grant is open (their references, in the items' order)."""

    kept: int
    left: tuple[str, ...] = ()

    @property
    def left_message(self) -> str:
        """Why items were left undecided, for the head; empty when none were."""
        count = len(self.left)
        if not count:
            return ""
        shown = ", ".join(self.left[:5]) + (f" and {count - 5} more" if count > 5 else "")
        if count == 1:
            return (f"1 access was left undecided: a removal or suspension of it is already open ({shown}), so it "
                    "cannot be kept. Decide it on its own.")
        return (f"{count} accesses were left undecided: a removal or suspension of each is already open ({shown}), "
                "so they cannot be kept. Decide them one by one.")


@service_transaction
def validation_keep_all(*, validation: Validation, by: User, confirmed: bool) -> KeptAll:
    """Keep every undecided item, after an explicit confirmation, except the head's own (the
    designee's to decide) and those whose grant has a removal or suspension open, which cannot be
    kept: those stay undecided and the result says how many and which requests."""
    validation = Validation.objects.select_for_update().select_related("department").get(pk=validation.pk)
    if not may_decide(validation=validation, user=by):
        audit_refusal(actor=by, action="validation.keep_all", target=validation)
        raise NotAllowed(f"Only the head of {validation.department} decides the items of an open validation.")
    if not confirmed:
        raise RuleViolation("Confirm that you keep every access listed before keeping them all.", field="confirm")
    _close_ended(validation)
    # The head's own access is left for the Mayor's designee.
    undecided = ValidationItem.objects.filter(validation=validation, decision=Decision.PENDING).exclude(
        grant__person_id=validation.department.head_id
    )
    outgoing = outgoing_requests().filter(grant=OuterRef("grant"))
    left = tuple(
        undecided.filter(Exists(outgoing)).order_by("pk")
        # "remove" sorts before "suspend": a removal is named first, as on the page.
        .annotate(reference=Subquery(outgoing.order_by("action", "pk").values("reference")[:1]))
        .values_list("reference", flat=True)
    )
    count = undecided.exclude(Exists(outgoing)).update(decision=Decision.KEEP, decided_by=by, decided_at=timezone.now())
    detail = f"{count} items" + (f"; {len(left)} left with a removal or suspension open" if left else "")
    audit_record(actor=by, action="validation.keep_all", target=validation, detail=detail)
    return KeptAll(kept=count, left=left)


def revocation_justification(*, validation: Validation, reason: str) -> str:
    """The justification of the removal a revoked item sends to ITSA."""
    return f"Revoked in the {validation.get_kind_display().lower()} of {validation.period:%Y}: {reason}"


def sign_off_statement(*, validation: Validation, by: User, kept: int, signed_at: datetime | None = None) -> str:
    """What the head signs; the page shows it before signing, the sign-off stores it with the time."""
    statement = (
        f"I, {by.full_name}, head of {validation.department}, have reviewed every access listed in this "
        f"{validation.get_kind_display().lower()} and validate the {kept} I kept as needed for a permissible use."
    )
    if signed_at is None:
        return statement
    return f"{statement} Signed {timezone.localtime(signed_at):%B %-d, %Y at %H:%M %Z}."


@service_transaction
def validation_sign_off(*, validation: Validation, by: User, password: str) -> Validation:
    """The head signs the validation with their name and the time, after entering their password
    again, so the sign-off cannot later be denied (S3.4f)."""
    validation = Validation.objects.select_for_update().select_related("department").get(pk=validation.pk)
    if validation.status != Validation.Status.OPEN and validation.signed_off_by_id == by.pk:
        return validation
    if not may_decide(validation=validation, user=by):
        audit_refusal(actor=by, action="validation.sign_off", target=validation)
        raise NotAllowed(f"Only the head of {validation.department} signs off its validation.")
    if not by.check_password(password or ""):
        audit_refusal(actor=by, action="validation.sign_off", target=validation, outcome="refused",
                      detail="password did not match")
        raise RuleViolation("That password is not right. Enter your portal password to sign.", field="password")
    _close_ended(validation)
    pending = validation.items.filter(decision=Decision.PENDING).count()
    own = validation.items.filter(decision=Decision.PENDING, grant__person_id=by.pk).count()
    if pending and pending == own:
        raise RuleViolation("Your own access is still waiting for the Mayor's designee's decision; sign off once "
                            "it is decided.")
    if pending:
        raise RuleViolation(f"{pending} item{'s are' if pending != 1 else ' is'} not decided yet. Decide every item "
                            "before signing off.")
    no_longer_kept = list(
        validation.items.filter(decision=Decision.KEEP)
        .filter(Exists(outgoing_requests().filter(grant=OuterRef("grant"))))
        .select_related("grant__person", "grant__system").order_by("pk")[:6]
    )
    if no_longer_kept:
        audit_refusal(actor=by, action="validation.sign_off", target=validation, outcome="refused",
                      detail="kept access has a removal or suspension open")
        names = "; ".join(f"{item.grant.person}’s access to {item.grant.system} "
                          f"({outgoing_request_for(item.grant).reference})" for item in no_longer_kept[:5])
        raise RuleViolation(f"A removal or suspension was filed after you kept {names}"
                            f"{' and more' if len(no_longer_kept) > 5 else ''}. That access can no longer be "
                            "attested as kept: revoke it before signing off.")
    now = timezone.now()
    kept = validation.items.filter(decision=Decision.KEEP).count()
    validation.sign_off_statement = sign_off_statement(validation=validation, by=by, kept=kept, signed_at=now)
    validation.signed_off_by, validation.signed_off_at = by, now
    validation.status = Validation.Status.SIGNED_OFF
    validation.save()
    audit_record(actor=by, action="validation.sign_off", target=validation)
    _freeze_attestation_after_commit(validation.pk)
    # Nothing left with ITSA: complete at once (and hand back the row as it now stands).
    return validation_refresh(validation=validation)


def _freeze_attestation_after_commit(validation_id: int) -> None:
    """The signed attestation is made by a worker once the sign-off is committed (audits.documents)."""
    def enqueue():
        from .tasks import freeze_attestation

        freeze_attestation.delay(validation_id)

    transaction.on_commit(enqueue)


def validation_refresh(*, validation: Validation) -> Validation:
    """Complete a signed-off validation once ITSA has processed every removal and change it sent."""
    with transaction.atomic():
        lock_audit_chain()
        validation = Validation.objects.select_for_update().get(pk=validation.pk)
        if validation.status != Validation.Status.SIGNED_OFF:
            return validation
        # A removal ITSA returned has not removed anything: the validation stays open to view until it is.
        waiting = validation.items.filter(
            follow_up__status__in=[*AccessRequest.OPEN_STATUSES, AccessRequest.Status.RETURNED]
        ).exists()
        if not waiting:
            validation.status = Validation.Status.COMPLETE
            validation.completed_at = timezone.now()
            validation.save(update_fields=["status", "completed_at"])
            audit_record(actor=None, action="validation.complete", target=validation)
    return validation


# --- Reminders, escalation, non-response --------------------------------------------------------

def _mark_sent(validation: Validation, days_before_due: int) -> bool:
    """Record a reminder; False when it was already sent (each goes out exactly once)."""
    try:
        with transaction.atomic():
            ReminderSent.objects.create(validation=validation, days_before_due=days_before_due)
        return True
    except IntegrityError:
        return False


def send_reminders(*, today: date | None = None) -> int:
    """One digest to the head at the set offsets while items are undecided; after the due date, one
    escalation to the Mayor's designee and ITSA. Returns how many messages were sent."""
    today = today or timezone.localdate()
    offsets = sorted(_setting("VALIDATION_REMINDER_DAYS", (14, 7, 2, 0)))
    sent = 0
    open_validations = (
        Validation.objects.filter(status=Validation.Status.OPEN)
        .annotate(undecided=Count("items", filter=Q(items__decision=Decision.PENDING)))
        .filter(undecided__gt=0).select_related("department__head")
    )
    for validation in open_validations:
        days_left = (validation.due_date - today).days
        with transaction.atomic():
            if days_left >= 0:
                reached = [offset for offset in offsets if offset >= days_left]
                # Only the closest offset reached: a missed day does not send a pile of reminders.
                if reached and _mark_sent(validation, min(reached)):
                    head = validation.department.head
                    email_send("validation-reminder", to=[head.email] if head else [],
                               context={"v": validation, "undecided": validation.undecided, "days_left": days_left})
                    sent += 1
            elif _mark_sent(validation, -1):
                to = User.objects.filter(groups__name__in=[DESIGNEE_GROUP, ITSA_GROUP], is_active=True)
                email_send("validation-overdue", to=[u.email for u in to],
                           context={"v": validation, "undecided": validation.undecided})
                sent += 1
    return sent


def handle_non_response(*, today: date | None = None) -> int:
    """After the grace period, undecided end-user grants are suspended (or only flagged, by setting)."""
    today = today or timezone.localdate()
    grace = timedelta(days=_setting("VALIDATION_GRACE_DAYS", 14))
    suspend = _setting("VALIDATION_NON_RESPONSE", "suspend") == "suspend"
    handled = 0
    overdue = Validation.objects.filter(status=Validation.Status.OPEN, due_date__lt=today - grace)
    for validation in overdue.select_related("department__head"):
        with transaction.atomic():
            lock_audit_chain()
            items = ValidationItem.objects.select_for_update().filter(
                validation=validation, decision=Decision.PENDING, grant__role=Grant.Role.END_USER,
                grant__status=Grant.Status.ACTIVE,
            ).select_related("grant__person", "grant__system", "grant__department")
            items = list(items)
            if not items or not suspend:
                if items and _mark_sent(validation, -2):
                    audit_record(actor=None, action="validation.non_response_flagged", target=validation,
                                 detail=f"{len(items)} grants")
                continue
            actor = validation.department.head
            for item in items:
                grant_suspend(grant=item.grant, by=actor)
                item.follow_up = access_request_queue_for_itsa(
                    grant=item.grant, action=AccessRequest.Action.SUSPEND, role=item.grant.role, by=actor,
                    justification=f"No answer in the {validation.get_kind_display().lower()} due "
                                  f"{validation.due_date:%B %-d, %Y}.",
                ) if actor else None
                item.decision, item.decided_at = Decision.SUSPENDED, timezone.now()
                item.save(update_fields=["decision", "decided_at", "follow_up"])
                handled += 1
            audit_record(actor=None, action="validation.non_response_suspended", target=validation,
                         detail=f"{len(items)} grants")
            email_send("validation-suspended", to=[actor.email] if actor else [],
                       context={"v": validation, "count": len(items)})
    return handled
