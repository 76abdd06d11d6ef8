"""Waivers (Section 5.1): a temporary exception to a use or a condition of Table 1.

A department head asks for their department (or either director asks); the Director of Public
Safety or the City Operations Director grants or denies it, never the person who asked, and the
justification rests on life, safety or asset protection (S5.1a). Up to 30 days the director's
grant is enough; longer needs the Mayor's approval, which the Mayor's designee records, and the
waiver is flagged as a substantive change to the policy (S5.1b). The length that counts is the
length of the deviation, however it is split into waivers: a waiver together with every other
waiver for the same deviation that overlaps or touches it, transitively (`waiver_chain`, S5.1c).
A waiver ends by itself at 00:00, city time, on its end date, and shows on every grant it
touches. It concerns the uses of Table 1, which govern end users: separation of duties (S3.2a,
S3.2b) is never waivable, so a staff-role grant is never touched by one, and `accounts.sod` never
looks at waivers.

Every function: lock the row, check who may act, return early when it is already in the target
state, check the rule, write the change (history records it) and the audit event, and send mail
only after commit. Refused attempts are recorded with `audit_refusal`.
"""

from dataclasses import dataclass
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
from .selectors import (
    OPEN_STATUSES, Status, departments_for_waivers, grant_ids_of_waivers, waivers_for_the_same_use,
)


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


# --- Waivers for the same deviation count together (S5.1c) -------------------------------------

def _days_in_words(first: date, last: date) -> str:
    """'1–31 March 2027', '25 March – 23 April 2027': the first and the last day, both included."""
    if first == last:
        return f"{first.day} {first:%B %Y}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {last:%B %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%B} – {last.day} {last:%B %Y}"
    return f"{first.day} {first:%B %Y} – {last.day} {last:%B %Y}"


@dataclass(frozen=True)
class CountedDays:
    """The days of one waiver that count towards the length of its deviation: from `starts_on` to
    00:00, city time, on `ends_on` (the same convention as the waiver's own period)."""

    waiver: Waiver
    starts_on: date
    ends_on: date

    def touches(self, other: "CountedDays") -> bool:
        """The two overlap, or one ends on the day the other starts."""
        return self.starts_on <= other.ends_on and other.starts_on <= self.ends_on

    @property
    def words(self) -> str:
        """'waiver 12 (1–31 March 2027, granted)'."""
        days = _days_in_words(self.starts_on, self.ends_on - timedelta(days=1))
        status = self.waiver.get_status_display()
        return f"waiver {self.waiver.pk} ({days}, {status[0].lower()}{status[1:]})"  # keeps "the Mayor's"


def _ran(waiver: Waiver) -> bool:
    """An ended waiver was in force before it ran out: a director granted it alone (30 days or
    fewer), or the Mayor approved it. One that ran out waiting for a director or the Mayor never was."""
    return waiver.decided_by_id is not None and (not waiver.substantive_change or waiver.mayor_approved_on is not None)


def waiver_counted_days(waiver: Waiver) -> CountedDays | None:
    """The days of `waiver` that count towards the length of its deviation (S5.1c), or None:

    - awaiting a director, awaiting the Mayor, or granted: its whole period. One still waiting may
      yet be granted; counting it also means that two directors deciding two halves of a deviation
      at the same moment both send them to the Mayor.
    - ended on its end date (expired) after being in force (see `_ran`): its whole period.
      Ended there without ever being in force (no director, or no Mayor, decided in time): none,
      it never ran and never can.
    - revoked: from its first day to the day, city time, it was revoked, that day included (it was in
      force for part of it); none if it was revoked before its first day.
    - denied, by a director or by the Mayor: none.
    """
    if waiver.status in (Status.REQUESTED, Status.AWAITING_MAYOR, Status.GRANTED):
        return CountedDays(waiver, waiver.starts_on, waiver.ends_on)
    if waiver.status == Status.EXPIRED:
        return CountedDays(waiver, waiver.starts_on, waiver.ends_on) if _ran(waiver) else None
    if waiver.status == Status.REVOKED:
        if waiver.ended_at is None:
            return CountedDays(waiver, waiver.starts_on, waiver.ends_on)
        ends_on = min(waiver.ends_on, timezone.localdate(waiver.ended_at) + timedelta(days=1))
        return CountedDays(waiver, waiver.starts_on, ends_on) if ends_on > waiver.starts_on else None
    return None


def _share_a_grant(some: set[int], others: set[int]) -> bool:
    # A waiver naming no grant (there are old ones) is not told apart by its grants.
    return not some or not others or bool(some & others)


@dataclass(frozen=True)
class WaiverChain:
    """A waiver together with every other waiver for the same deviation whose counted days overlap
    or touch its own, transitively. It runs from its earliest start to its latest end: since each
    link overlaps or touches, there is no gap in between."""

    own: CountedDays
    others: tuple[CountedDays, ...]

    @property
    def waiver(self) -> Waiver:
        return self.own.waiver

    @property
    def starts_on(self) -> date:
        return min(link.starts_on for link in (self.own, *self.others))

    @property
    def ends_on(self) -> date:
        return max(link.ends_on for link in (self.own, *self.others))

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days

    @property
    def needs_mayor(self) -> bool:
        return self.days > Waiver.MAX_DAYS_WITHOUT_MAYOR

    @property
    def summary(self) -> str:
        """'Together with waiver 12 (1–31 March 2027, granted) this makes 61 days for the same deviation';
        empty when the waiver stands alone."""
        if not self.others:
            return ""
        words = [link.words.removeprefix("waiver ") for link in self.others]
        listed = words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"
        return (f"Together with waiver{'s' if len(words) > 1 else ''} {listed} this makes {self.days} "
                f"day{'s' if self.days != 1 else ''} for the same deviation")

    @property
    def sentence(self) -> str:
        """What the waiver's page says of its chain; empty when the waiver stands alone."""
        if not self.others:
            return ""
        waiver = self.waiver
        if not self.needs_mayor:
            return f"{self.summary}, within the 30 days a director may grant alone (Section 5.1)."
        if waiver.status in OPEN_STATUSES or waiver.substantive_change:
            substantive = " It is a substantive change to the policy." if waiver.substantive_change else ""
            return f"{self.summary}: it needs the Mayor's approval (Section 5.1).{substantive}"
        # Granted by a director alone before the waivers that lengthen it were asked for.
        return f"{self.summary}, more than the 30 days a director may grant alone (Section 5.1)."


def waiver_chain(waiver: Waiver) -> WaiverChain | None:
    """The chain of `waiver` (S5.1c), or None when its own days do not count (`waiver_counted_days`).

    The same deviation: the same department, the same intended use and the same permissible use of
    Table 1 (none on both is the same), and — where both waivers name grants — at least one grant
    in common; whatever the deviation says in words. Waivers chain when their counted days overlap
    or one ends on the day the other starts, and the chain follows such links from waiver to waiver."""
    own = waiver_counted_days(waiver)
    if own is None:
        return None
    counted = {
        other.pk: days for other in waivers_for_the_same_use(waiver)
        if (days := waiver_counted_days(other)) is not None
    }
    grants = grant_ids_of_waivers([waiver.pk, *counted])
    chained = {waiver.pk: own}
    reached = [waiver.pk]
    while reached:
        link = reached.pop()
        for pk, days in counted.items():
            if pk not in chained and chained[link].touches(days) and _share_a_grant(
                    grants.get(link, set()), grants.get(pk, set())):
                chained[pk] = days
                reached.append(pk)
    others = sorted((days for pk, days in chained.items() if pk != waiver.pk),
                    key=lambda days: (days.starts_on, days.waiver.pk))
    return WaiverChain(own=own, others=tuple(others))


def waiver_needs_mayor(waiver: Waiver) -> bool:
    """More than 30 days, alone or with the waivers for the same deviation it chains with, needs
    the Mayor's approval (S5.1b, S5.1c)."""
    chain = waiver_chain(waiver)
    return waiver.days > Waiver.MAX_DAYS_WITHOUT_MAYOR or (chain is not None and chain.needs_mayor)


def waiver_chain_sentence(waiver: Waiver) -> str:
    """What the pages say of the other waivers for the same deviation; empty when there are none."""
    chain = waiver_chain(waiver)
    return chain.sentence if chain is not None else ""


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
    email_send("waiver-requested", to=_emails(_directors().exclude(pk=by.pk)),
               context={"waiver": waiver, "chain": waiver_chain_sentence(waiver)})
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

    chain = waiver_chain(waiver) if grant else None
    if not grant:
        status = Status.DENIED
    elif waiver.days > Waiver.MAX_DAYS_WITHOUT_MAYOR or chain.needs_mayor:
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
                    change_reason=change_reason, detail=chain.summary if chain and chain.others else "")
    chain = waiver_chain_sentence(waiver)
    email_send("waiver-decided", to=_asker_and_head(waiver), context={"waiver": waiver, "chain": chain})
    if waiver.status == Status.AWAITING_MAYOR:
        email_send("waiver-awaiting-mayor", to=_emails(_designees().exclude(pk=waiver.requested_by_id)),
                   context={"waiver": waiver, "chain": chain})
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
        chain = waiver_chain(waiver)
        together = f" {chain.summary}." if chain is not None and chain.others else ""
        policy_substantive_change_propose(
            section="5.1", by=by,
            description=f"Waiver {waiver.pk} ({waiver.department}, {waiver.intended_use}): {waiver.deviation} "
                        f"From {waiver.starts_on:%d %B %Y} to {waiver.ends_on:%d %B %Y}; approved by the Mayor on "
                        f"{decided_on:%d %B %Y}.{together}",
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
