"""The oversight role: auditors (the city's internal auditor, a civilian oversight board) read every
department's requests, grants, validations, waivers, incidents and the audit trail, and change
nothing. ITSA asks for an appointment, the Mayor's designee decides it; the approval puts the person
in OVERSIGHT_GROUP, and the end (by ITSA or the designee, at once, or by itself on its last day)
takes them out. Nobody joins the group any other way: the admin refuses it (accounts.forms).
The role is read in accounts.models.Roles; every app's selectors let it read.

Whoever reads for oversight audits every system, so they hold access to none (S3.2a): an
appointment is refused while the person holds a live grant, and accounts.sod refuses a grant to a
member of the group."""

from datetime import date

from django.utils import timezone

from portal.audit import audit_record, audit_refusal, service_transaction
from portal.decisions import decision_open, decision_record
from portal.emails import email_send
from portal.errors import NotAllowed, RuleViolation
from portal.text import clean_text

from accounts.models import (
    DESIGNEE_GROUP, ITSA_GROUP, OPERATIONS_DIRECTOR_GROUP, OVERSIGHT_GROUP, SAFETY_DIRECTOR_GROUP, Grant, User,
)
from accounts.selectors import emails_of
from accounts.services import role_group

from .models import OversightAppointment

Status = OversightAppointment.Status

# Those overseen do not oversee themselves: the roles that act on the records oversight reads.
ACTING_GROUPS = (ITSA_GROUP, DESIGNEE_GROUP, SAFETY_DIRECTOR_GROUP, OPERATIONS_DIRECTOR_GROUP)


def may_propose_oversight(user: User) -> bool:
    return user.is_authenticated and user.roles.is_itsa


def may_decide_oversight(user: User) -> bool:
    return user.is_authenticated and user.roles.is_designee


def may_end_oversight(user: User) -> bool:
    """Taking read access away never waits for a second person: ITSA or the designee ends it at once."""
    return user.is_authenticated and (user.roles.is_itsa or user.roles.is_designee)


def oversight_eligibility_problem(person: User) -> str | None:
    """Why `person` cannot be appointed to oversight, or None."""
    if not person.is_active or person.employment_status == User.EmploymentStatus.LEFT:
        return f"{person} cannot sign in to the portal: only an active person can be appointed."
    if person.is_third_party:
        return f"{person} works for {person.organization}, a third party: oversight is for the city's own auditors."
    acting = sorted(set(person.groups.values_list("name", flat=True)) & set(ACTING_GROUPS))
    if acting:
        return (f"{person} is one of the {', '.join(acting)}: those whose work oversight reads do not oversee "
                f"it themselves.")
    if person.roles.works_for_a_department:
        return (f"{person} heads or files requests for a department: those whose work oversight reads do not "
                f"oversee it themselves.")
    held = list(Grant.objects.filter(person=person, status__in=Grant.LIVE_STATUSES).select_related("system")
                .order_by("system__name"))
    if held:
        systems = ", ".join(sorted({grant.system.name for grant in held}))
        return (f"{person} holds access to {systems}: nobody audits a system they have access to (Section 3.2). "
                f"Their access must be removed first.")
    return None


@service_transaction
def oversight_propose(*, person: User, body: str, purpose: str, by: User, ends_on: date | None = None,
                      today: date | None = None) -> OversightAppointment:
    """ITSA asks for `person` to be appointed to oversight; the designees are told."""
    today = today or timezone.localdate()
    if not may_propose_oversight(by):
        audit_refusal(actor=by, action="oversight.propose", target=person)
        raise NotAllowed("Only ITSA asks for an oversight appointment; the Mayor's designee decides it.")
    body = clean_text(body, field="body", label="oversight body", limit=150)
    purpose = clean_text(purpose, field="purpose", label="purpose")
    if ends_on is not None and ends_on <= today:
        raise RuleViolation("The last day of the appointment must be after today.", field="ends_on")
    person = User.objects.select_for_update().get(pk=person.pk)
    problem = oversight_eligibility_problem(person)
    if problem:
        audit_refusal(actor=by, action="oversight.propose", target=person, detail=problem)
        raise RuleViolation(problem, field="person")
    if OversightAppointment.objects.filter(person=person, status__in=OversightAppointment.OPEN_STATUSES).exists():
        raise RuleViolation(f"{person} already has an oversight appointment that is awaiting a decision or active.",
                            field="person")
    appointment = OversightAppointment.objects.create(person=person, body=body, purpose=purpose, ends_on=ends_on,
                                                      requested_by=by)
    audit_record(actor=by, action="oversight.propose", target=appointment, detail=f"{person} for {body}")
    email_send("oversight-proposed", to=emails_of(DESIGNEE_GROUP), context={"appointment": appointment})
    return appointment


def _lock(appointment: OversightAppointment) -> OversightAppointment:
    return OversightAppointment.objects.select_for_update(of=("self",)).select_related("person").get(
        pk=appointment.pk)


def _group():
    return role_group(OVERSIGHT_GROUP)


@service_transaction
def oversight_decide(*, appointment: OversightAppointment, approve: bool, reason: str, by: User,
                     today: date | None = None) -> OversightAppointment:
    """The Mayor's designee approves or refuses, never their own request. The approval gives the
    person the oversight role at once; eligibility is checked again, as it stands now."""
    today = today or timezone.localdate()
    appointment = _lock(appointment)
    reason = decision_open(
        appointment, by=by, reason=reason, outcomes=(Status.ACTIVE,) if approve else (Status.REFUSED,),
        pending=Status.PROPOSED, what="oversight appointment", action="oversight.decide",
        may_decide=may_decide_oversight(by),
        not_allowed="Only the Mayor's designee approves an oversight appointment.",
        asked="You asked for this appointment, so another designee must decide it.",
    )
    if reason is None:
        return appointment
    if approve:
        problem = oversight_eligibility_problem(appointment.person)
        if problem:
            raise RuleViolation(problem)
        if appointment.ends_on is not None and appointment.ends_on <= today:
            raise RuleViolation("This appointment's last day has passed: ITSA must ask again.")
    decision_record(appointment, status=Status.ACTIVE if approve else Status.REFUSED, reason=reason, by=by,
                    action="oversight.approve" if approve else "oversight.refuse",
                    change_reason=f"{'Approved' if approve else 'Refused'} by {by}"[:100])
    if approve:
        appointment.person.groups.add(_group())
    email_send("oversight-decided", to=[appointment.person.email if approve else "", *emails_of(ITSA_GROUP)],
               context={"appointment": appointment})
    return appointment


@service_transaction
def oversight_withdraw(*, appointment: OversightAppointment, by: User) -> OversightAppointment:
    """ITSA withdraws a request nobody has decided yet."""
    appointment = _lock(appointment)
    if appointment.status == Status.WITHDRAWN:
        return appointment
    if not may_propose_oversight(by):
        audit_refusal(actor=by, action="oversight.withdraw", target=appointment)
        raise NotAllowed("Only ITSA withdraws a request for an oversight appointment.")
    if appointment.status != Status.PROPOSED:
        raise RuleViolation(f"This appointment was already decided: {appointment.get_status_display().lower()}.")
    appointment.status = Status.WITHDRAWN
    appointment._change_reason = f"Withdrawn by {by}"[:100]
    appointment.save()
    audit_record(actor=by, action="oversight.withdraw", target=appointment)
    return appointment


def _end(appointment: OversightAppointment, *, by: User | None, reason: str) -> OversightAppointment:
    appointment.status = Status.ENDED
    appointment.ended_at = timezone.now()
    appointment.ended_by = by
    appointment.end_reason = reason
    appointment._change_reason = (f"Ended by {by}" if by else "Ended on its last day")[:100]
    appointment.save()
    appointment.person.groups.remove(_group())
    audit_record(actor=by, action="oversight.end", target=appointment, detail=reason)
    email_send("oversight-ended", to=[appointment.person.email, *emails_of(ITSA_GROUP), *emails_of(DESIGNEE_GROUP)],
               context={"appointment": appointment})
    return appointment


@service_transaction
def oversight_end(*, appointment: OversightAppointment, reason: str, by: User) -> OversightAppointment:
    """ITSA or the designee ends an active appointment at once: the person reads nothing more from the
    next page they open."""
    appointment = _lock(appointment)
    if appointment.status == Status.ENDED:
        return appointment
    if not may_end_oversight(by):
        audit_refusal(actor=by, action="oversight.end", target=appointment)
        raise NotAllowed("Only ITSA or the Mayor's designee ends an oversight appointment.")
    if appointment.status != Status.ACTIVE:
        raise RuleViolation("Only an active appointment can be ended.")
    reason = clean_text(reason, field="reason", label="reason for ending it")
    return _end(appointment, by=by, reason=reason)


@service_transaction
def _end_expired(*, appointment: OversightAppointment, today: date) -> bool:
    appointment = _lock(appointment)
    if appointment.status != Status.ACTIVE or appointment.ends_on is None or appointment.ends_on >= today:
        return False
    _end(appointment, by=None, reason=f"The appointment's last day, {appointment.ends_on:%B %-d, %Y}, has passed.")
    return True


def oversight_end_expired(*, today: date | None = None) -> int:
    """Each night: appointments past their last day end by themselves. Returns how many ended."""
    today = today or timezone.localdate()
    return sum(_end_expired(appointment=appointment, today=today)
               for appointment in OversightAppointment.objects.filter(status=Status.ACTIVE, ends_on__lt=today))
