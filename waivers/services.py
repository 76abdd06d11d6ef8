"""Waivers (Section 5.1): a temporary exception to a use or a condition of Table 1.

A department head asks for their department (or either director asks); the Director of Public
Safety or the City Operations Director grants or denies it, never the person who asked, and the
justification rests on life, safety or asset protection (S5.1a). Up to 30 days the director's
grant is enough; longer needs the Mayor's approval, which the Mayor's designee records, and the
waiver is flagged as a substantive change to the policy (S5.1b). A waiver ends by itself at 00:00,
city time, on its end date, and shows on every grant it touches. It concerns the uses of Table 1,
which govern end users: separation of duties (S3.2a, S3.2b) is never waivable, so a staff-role
grant is never touched by one, and `accounts.sod` never looks at waivers.

Every function: lock the row, check who may act, return early when it is already in the target
state, check the rule, write the change (history records it) and the audit event, and send mail
only after commit. Refused attempts are recorded with `audit_refusal`.
"""

from datetime import date, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import (
    DESIGNEE_GROUP, OPERATIONS_DIRECTOR_GROUP, SAFETY_DIRECTOR_GROUP, Department, Grant, User,
)
from portal.audit import audit_record, audit_refusal, service_transaction
from portal.decisions import decision_open, decision_record, refuse_decider
from portal.emails import email_send
from portal.errors import NotAllowed, RuleViolation
from portal.models import IntendedUse, PermissibleUse
from portal.policy import policy_substantive_change_propose
from portal.text import clean_text

from .models import Waiver
from .selectors import OPEN_STATUSES, Status, departments_for_waivers


# A waiver is temporary: beyond a year it is a change of the policy, not an exception to it.
MAX_DAYS = 365


# What runs out by itself on its end date: a granted waiver, and one still waiting for a decision.
ENDS_BY_ITSELF = (Status.REQUESTED, Status.AWAITING_MAYOR, Status.GRANTED)


def _emails(users) -> list[str]:
    return [user.email for user in users if user is not None and user.is_active]


def _directors() -> QuerySet[User]:
    return User.objects.filter(groups__name__in=[SAFETY_DIRECTOR_GROUP, OPERATIONS_DIRECTOR_GROUP],
                               is_active=True).distinct()


def _designees() -> QuerySet[User]:
    return User.objects.filter(groups__name=DESIGNEE_GROUP, is_active=True)


def _asker_and_head(waiver: Waiver) -> list[str]:
    return _emails([waiver.requested_by, waiver.department.head])


def may_request_waiver(user: User) -> bool:
    return bool(departments_for_waivers(user))


def may_decide_waiver(*, waiver: Waiver, user: User) -> bool:
    """Either director decides (S5.1a), never on a waiver they asked for."""
    return waiver.status == Status.REQUESTED and user.roles.is_director and not waiver.is_asked_by(user)


def may_record_mayor_decision(*, waiver: Waiver, user: User) -> bool:
    """The Mayor's designee records the Mayor's approval or refusal (S5.1b), never on their own request."""
    return waiver.status == Status.AWAITING_MAYOR and user.roles.is_designee and not waiver.is_asked_by(user)


def may_revoke_waiver(*, waiver: Waiver, user: User) -> bool:
    return waiver.status == Status.GRANTED and user.roles.is_director


def _check_grants(grants, *, department: Department) -> list[Grant]:
    grants = list(grants)
    if not grants:
        raise RuleViolation("Choose the grants (accounts) the waiver applies to.", field="grants")
    for grant in grants:
        if grant.is_staff_role:
            raise RuleViolation(
                f"{grant} is a staff role. A waiver concerns the uses of Table 1, which govern end users: "
                "separation of duties (Section 3.2) is never waivable.", field="grants",
            )
        if grant.department_id != department.pk:
            raise RuleViolation(f"{grant} is not a grant of {department}.", field="grants")
        if not grant.is_live:
            raise RuleViolation(f"{grant} has been removed: a waiver applies to live grants only.", field="grants")
    return grants


@service_transaction
def waiver_request(
    *, department: Department, intended_use: IntendedUse, permissible_use: PermissibleUse | None = None,
    deviation: str, basis: str, justification: str, grants, starts_on: date, days: int, by: User,
    today: date | None = None,
) -> Waiver:
    """Ask for a temporary exception to a use or a condition of Table 1 (S5.1a), for `days` days
    from `starts_on`: the waiver ends at 00:00, city time, on `starts_on + days`."""
    today = today or timezone.localdate()
    if not (by.roles.is_director or department.head_id == by.pk):
        audit_refusal(actor=by, action="waiver.request", target=department)
        raise NotAllowed(f"Only the head of {department}, or a director, can ask for a waiver for it.")
    if intended_use is None:
        raise RuleViolation("Choose the intended use of Table 1 the waiver departs from.", field="intended_use")
    if permissible_use is not None and permissible_use.intended_use_id != intended_use.pk:
        raise RuleViolation(f"“{permissible_use.name}” is not a permissible use of {intended_use}.",
                            field="permissible_use")
    deviation = clean_text(deviation, field="deviation", label="deviation from Table 1")
    if basis not in Waiver.Basis.values:
        raise RuleViolation("Choose what justifies the waiver: life, safety or asset protection (Section 5.1).",
                            field="basis")
    justification = clean_text(justification, field="justification", label="justification")
    if starts_on is None or starts_on < today:
        raise RuleViolation("A waiver cannot start in the past: choose today or a later day.", field="starts_on")
    if days is None or not 1 <= days <= MAX_DAYS:
        raise RuleViolation(
            f"A waiver is temporary: from 1 to {MAX_DAYS} days (more than {Waiver.MAX_DAYS_WITHOUT_MAYOR} "
            "needs the Mayor's approval).", field="days",
        )
    try:
        ends_on = starts_on + timedelta(days=days)
    except OverflowError:
        raise RuleViolation("Choose a start date in the coming months.", field="starts_on") from None
    grants = _check_grants(grants, department=department)
    duplicate = Waiver.objects.filter(
        department=department, intended_use=intended_use, permissible_use=permissible_use, deviation=deviation,
        starts_on=starts_on, ends_on=ends_on, status__in=OPEN_STATUSES,
    ).first()
    if duplicate is not None:
        raise RuleViolation(f"The same waiver is already waiting for a decision: waiver {duplicate.pk}.")

    waiver = Waiver(
        department=department, intended_use=intended_use, permissible_use=permissible_use, deviation=deviation,
        basis=basis, justification=justification, starts_on=starts_on, ends_on=ends_on, requested_by=by,
    )
    waiver._change_reason = f"Asked for by {by}"[:100]
    waiver.save()
    waiver.grants.set(grants)
    audit_record(actor=by, action="waiver.request", target=waiver, detail=f"{waiver.days} days")
    email_send("waiver-requested", to=_emails(_directors().exclude(pk=by.pk)), context={"waiver": waiver})
    return waiver


def _lock(waiver: Waiver) -> Waiver:
    return Waiver.objects.select_for_update(of=("self",)).select_related("department__head", "requested_by").get(
        pk=waiver.pk)


@service_transaction
def waiver_decide(*, waiver: Waiver, grant: bool, reason: str, by: User, today: date | None = None) -> Waiver:
    """Either director grants or denies, with a reason, never the person who asked (S5.1a). Up to 30
    days the grant takes effect at once; longer, it waits for the Mayor's approval and is flagged as
    a substantive change to the policy (S5.1b)."""
    today = today or timezone.localdate()
    waiver = _lock(waiver)
    reason = decision_open(
        waiver, by=by, reason=reason, outcomes=(Status.GRANTED, Status.AWAITING_MAYOR) if grant else (Status.DENIED,),
        pending=Status.REQUESTED, what="waiver", action="waiver.decide", may_decide=by.roles.is_director,
        not_allowed="Only the Director of Public Safety or the City Operations Director can grant or deny a "
                    "waiver (Section 5.1).",
        asked="You asked for this waiver, so the other director must decide it.",
    )
    if reason is None:
        return waiver
    if grant and waiver.ends_on <= today:
        raise RuleViolation("This waiver would already have ended: ask for a new one.")

    if not grant:
        status = Status.DENIED
    elif waiver.days > Waiver.MAX_DAYS_WITHOUT_MAYOR:
        status = Status.AWAITING_MAYOR
        waiver.substantive_change = True
    else:
        status = Status.GRANTED
    change_reason = {
        Status.DENIED: f"Denied by {by}",
        Status.AWAITING_MAYOR: f"Approved by {by}; awaiting the Mayor's approval",
        Status.GRANTED: f"Granted by {by}",
    }[status][:100]
    decision_record(waiver, status=status, reason=reason, by=by, action=f"waiver.{status}",
                    change_reason=change_reason)
    email_send("waiver-decided", to=_asker_and_head(waiver), context={"waiver": waiver})
    if waiver.status == Status.AWAITING_MAYOR:
        email_send("waiver-awaiting-mayor", to=_emails(_designees().exclude(pk=waiver.requested_by_id)),
                   context={"waiver": waiver})
    return waiver


@service_transaction
def waiver_record_mayor_decision(
    *, waiver: Waiver, approved: bool, decided_on: date, by: User, note: str = "", today: date | None = None,
) -> Waiver:
    """The Mayor's designee records the Mayor's approval (the waiver is granted, a substantive change
    to the policy) or refusal (denied) of a waiver longer than 30 days (S5.1b)."""
    today = today or timezone.localdate()
    waiver = _lock(waiver)
    if waiver.mayor_recorded_by_id == by.pk and waiver.status == (Status.GRANTED if approved else Status.DENIED):
        return waiver
    refuse_decider(
        waiver, by=by, action="waiver.mayor", may_decide=by.roles.is_designee,
        not_allowed="Only the Mayor's designee records the Mayor's decision on a waiver.",
        asked="You asked for this waiver, so another of the Mayor's designees must record the Mayor's decision.",
    )
    if waiver.status != Status.AWAITING_MAYOR:
        raise RuleViolation(f"This waiver is not waiting for the Mayor: it is {waiver.get_status_display().lower()}.")
    if decided_on is None or decided_on > today:
        raise RuleViolation("The date of the Mayor's decision cannot be in the future.", field="decided_on")
    if decided_on < timezone.localtime(waiver.requested_at).date():
        raise RuleViolation("The Mayor decided before the waiver was asked for: check the date.", field="decided_on")
    note = clean_text(note, field="note", label="note", required=not approved)
    if approved and waiver.ends_on <= today:
        raise RuleViolation("This waiver would already have ended: ask for a new one.")

    waiver.mayor_recorded_by = by
    waiver.mayor_note = note
    if approved:
        waiver.status = Status.GRANTED
        waiver.mayor_approved_on = decided_on
        waiver._change_reason = f"The Mayor's approval recorded by {by}"[:100]
        # Longer than 30 days, the deviation becomes part of the policy as a substantive change (5.1).
        policy_substantive_change_propose(
            section="5.1", by=by,
            description=f"Waiver {waiver.pk} ({waiver.department}, {waiver.intended_use}): {waiver.deviation} "
                        f"From {waiver.starts_on:%d %B %Y} to {waiver.ends_on:%d %B %Y}; approved by the Mayor on "
                        f"{decided_on:%d %B %Y}.",
        )
    else:
        waiver.status = Status.DENIED
        waiver.mayor_refused_on = decided_on
        waiver._change_reason = f"The Mayor's refusal recorded by {by}"[:100]
    waiver.save()
    audit_record(actor=by, action="waiver.mayor_approved" if approved else "waiver.mayor_refused", target=waiver,
                 detail=f"{decided_on.isoformat()} {note}".strip())
    email_send("waiver-decided", to=_asker_and_head(waiver), context={"waiver": waiver})
    return waiver


def waiver_record_mayor_approval(*, waiver: Waiver, approved_on: date, by: User, today: date | None = None) -> Waiver:
    return waiver_record_mayor_decision(waiver=waiver, approved=True, decided_on=approved_on, by=by, today=today)


@service_transaction
def waiver_revoke(*, waiver: Waiver, reason: str, by: User) -> Waiver:
    """A director ends a granted waiver before its end date."""
    waiver = _lock(waiver)
    if waiver.status == Status.REVOKED and waiver.ended_by_id == by.pk:
        return waiver
    if not by.roles.is_director:
        audit_refusal(actor=by, action="waiver.revoke", target=waiver)
        raise NotAllowed("Only the Director of Public Safety or the City Operations Director can revoke a waiver.")
    if waiver.status != Status.GRANTED:
        raise RuleViolation(f"Only a granted waiver can be revoked; this one is {waiver.get_status_display().lower()}.")
    reason = clean_text(reason, field="reason", label="reason for revoking the waiver")
    waiver.status = Status.REVOKED
    waiver.ended_at = timezone.now()
    waiver.ended_by = by
    waiver.end_reason = reason
    waiver._change_reason = f"Revoked by {by}"[:100]
    waiver.save()
    audit_record(actor=by, action="waiver.revoke", target=waiver, detail=reason)
    email_send("waiver-ended", to=_asker_and_head(waiver), context={"waiver": waiver, "reason": reason})
    return waiver


@service_transaction
def _waiver_expire(*, waiver: Waiver, today: date) -> bool:
    waiver = _lock(waiver)
    if waiver.status not in ENDS_BY_ITSELF or waiver.ends_on > today:
        return False  # another run ended it, or somebody decided it since
    undecided = waiver.status != Status.GRANTED
    waiver.status = Status.EXPIRED
    waiver.ended_at = timezone.now()
    waiver.ended_by = None
    waiver._change_reason = "Ended on its end date without a decision" if undecided else "Ended on its end date"
    waiver.save()
    audit_record(actor=None, action="waiver.expire", target=waiver,
                 detail="no decision came" if undecided else "end date reached")
    email_send("waiver-ended", to=_asker_and_head(waiver), context={"waiver": waiver, "undecided": undecided})
    return True


def waivers_daily(*, today: date | None = None) -> int:
    """At 00:00, city time, on its end date a waiver ends by itself: a granted one, and one still
    waiting for a director or the Mayor. Each in its own transaction; a second run changes nothing.
    Returns how many ended."""
    today = today or timezone.localdate()
    due = Waiver.objects.filter(status__in=ENDS_BY_ITSELF, ends_on__lte=today).order_by("pk")
    return sum(_waiver_expire(waiver=waiver, today=today) for waiver in due)


def seed_demo_waivers(*, grant: Grant, asker: User, director: User, today: date | None = None) -> Waiver:
    """One granted waiver for the demo: the police's wider camera coverage around a stadium event,
    for three days from today, on the ground of safety, touching one officer's end-user grant.
    `asker` heads the grant's department; `director` is either director (not the asker)."""
    today = today or timezone.localdate()
    intended_use = IntendedUse.objects.get(code="public-safety")
    waiver = waiver_request(
        department=grant.department, intended_use=intended_use,
        permissible_use=PermissibleUse.objects.get(code="crime-deterrence"),
        deviation="Live monitoring of the cameras around the stadium, beyond the streets of the open "
                  "investigations, during the championship weekend.",
        basis=Waiver.Basis.SAFETY,
        justification="About 60,000 visitors are expected; the crowd and traffic around the stadium need live "
                      "watching so that officers reach any incident at once.",
        grants=[grant], starts_on=today, days=3, by=asker, today=today,
    )
    return waiver_decide(waiver=waiver, grant=True, reason="A crowd of this size justifies it for the weekend only.",
                         by=director, today=today)
