"""Incidents of willful unauthorized access or willful abuse of a surveillance system (S5.2).

Anyone signed in may report one, anonymously if they wish. The report is documented at once and the
Mayor's designees are told by e-mail. ITSA or a designee may suspend every active grant of the
person concerned at once, pending review (the margin comment asks for immediate suspension on a
good-faith complaint); the designee records the corrective action and closes the incident.

Whistleblower protection: an anonymous report keeps no link to its reporter. `reported_by` stays
empty, the history row of its creation names nobody, the audit event has no actor and no client
address, and no mail names anyone. Only `reporter_digest`, a keyed HMAC of the reporter's id and the
incident's reference, lets the portal tell that somebody is the reporter, so that the reporter
never decides on their own report.

Every decision names its decider, and the decider is never the reporter nor the person concerned.
"""

from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.db.models.functions import Length
from django.utils import timezone

from accounts.models import DESIGNEE_GROUP, ITSA_GROUP, Grant, SurveillanceSystem, User
from accounts.selectors import emails_of
from accounts.services import grant_set_status
from accounts.sod import administering_problem
from portal.audit import audit_record, audit_refusal, service_transaction
from portal.emails import email_send
from portal.errors import NotAllowed, RuleViolation
from portal.text import clean_text
from security.services import grant_suspend

from .models import Incident
from .selectors import is_reporter, reporter_digest


ANONYMOUS_REPORTER = "Anonymous reporter"


def _next_reference() -> str:
    year = timezone.localdate().year
    # The longest reference first: as text, "INC-2026-9999" sorts after "INC-2026-10000".
    last = (
        Incident.objects.filter(reference__startswith=f"INC-{year}-")
        .order_by(Length("reference").desc(), "-reference")
        .values_list("reference", flat=True).first()
    )
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"INC-{year}-{number:04d}"


def _save_numbered(incident: Incident, *, by: User, attempts: int = 5) -> None:
    """Number a new incident and save it. Two reports at the same moment can pick the same number:
    the unique index makes the later one wait for the first to commit, then it takes the next."""
    for attempt in range(attempts):
        incident.reference = _next_reference()
        incident.reporter_digest = reporter_digest(user=by, reference=incident.reference)
        try:
            with transaction.atomic():
                incident.save()
            return
        except IntegrityError:
            taken = Incident.objects.filter(reference=incident.reference).exists()
            if not taken or attempt == attempts - 1:
                raise


def _head_emails(incident: Incident) -> list[str]:
    """The department head of the person concerned, unless the head is that person."""
    person = incident.person
    department = person.department if person is not None else None
    head = department.head if department is not None else None
    if head is None or head.pk == person.pk or not head.is_active:
        return []
    return [head.email]


@service_transaction
def incident_report(
    *, nature: str, description: str, occurred_on: date | None = None, person: User | None = None,
    system: SurveillanceSystem | None = None, anonymous: bool = False, by: User,
) -> Incident:
    """Anyone signed in reports willful unauthorized access or abuse (S5.2); it is documented at once
    and the Mayor's designees are e-mailed the nature, the person and system concerned and a link."""
    if not getattr(by, "is_authenticated", False) or not by.is_active:
        raise NotAllowed("Sign in to report an incident.")
    if nature not in Incident.Nature.values:
        raise RuleViolation("Choose whether this is unauthorized access or abuse.", field="nature")
    description = clean_text(description, field="description", label="description of what happened")
    if occurred_on is not None and occurred_on > timezone.localdate():
        raise RuleViolation("The day it happened cannot be in the future.", field="occurred_on")
    if person is not None and person.pk == by.pk:
        raise RuleViolation(
            "You cannot report yourself as the person concerned. Leave the person empty, or name somebody else.",
            field="person",
        )
    incident = Incident(
        nature=nature, description=description, occurred_on=occurred_on, person=person, system=system,
        anonymous=bool(anonymous), reported_by=None if anonymous else by,
    )
    if anonymous:
        # The history row of the creation names nobody (see portal.history.history_user).
        incident._history_user = None
        incident._change_reason = "Reported anonymously"
    else:
        incident._change_reason = "Reported"
    _save_numbered(incident, by=by)
    incident.__dict__.pop("_history_user", None)  # later saves name their decider again
    if anonymous:
        audit_record(actor=None, action="incident.report", target=incident, detail="anonymous report",
                     anonymous=True)
    else:
        audit_record(actor=by, action="incident.report", target=incident)
    email_send("incident-reported", to=emails_of(DESIGNEE_GROUP), context={"incident": incident})
    return incident


def _live_active_grants(person: User) -> QuerySet[Grant]:
    return Grant.objects.filter(person=person, status=Grant.Status.ACTIVE).select_related("system").order_by("pk")


def may_suspend(*, incident: Incident, user: User) -> bool:
    """ITSA or a designee, never the reporter nor the person concerned; an open incident that names
    somebody and whose grants are not suspended yet."""
    return (
        getattr(user, "is_authenticated", False) and (user.roles.is_itsa or user.roles.is_designee)
        and incident.status == Incident.Status.OPEN
        and incident.person_id is not None
        and incident.suspended_at is None
        and incident.person_id != user.pk
        and not is_reporter(incident=incident, user=user)
    )


def _refuse_if_party(*, incident: Incident, by: User, action: str) -> None:
    """The reporter and the person concerned never decide. The refusal on the trail records the
    attempt, never that the one who tried is the reporter."""
    if incident.person_id == by.pk:
        audit_refusal(actor=by, action=action, target=incident)
        raise NotAllowed("This incident concerns you, so somebody else must decide on it.")
    if is_reporter(incident=incident, user=by):
        audit_refusal(actor=by, action=action, target=incident)
        raise NotAllowed("You reported this incident, so somebody else must decide on it.")


@service_transaction
def incident_suspend(*, incident: Incident, by: User, reason: str = "") -> Incident:
    """ITSA or a designee suspends every active grant of the person concerned at once, pending
    review (S5.2, margin comment JC28); ITSA and the person's department head are e-mailed."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if not (getattr(by, "is_authenticated", False) and (by.roles.is_itsa or by.roles.is_designee)):
        audit_refusal(actor=by, action="incident.suspend", target=incident)
        raise NotAllowed("Only ITSA or the Mayor's designee can suspend access pending review.")
    _refuse_if_party(incident=incident, by=by, action="incident.suspend")
    if incident.suspended_at is not None:
        return incident
    if incident.status != Incident.Status.OPEN:
        raise RuleViolation("This incident is closed: nothing can be suspended under it any more.")
    if incident.person_id is None:
        raise RuleViolation("This report names nobody: there is no access to suspend.")
    reason = clean_text(reason, field="reason", label="reason", required=False)
    grants = list(_live_active_grants(incident.person))
    if not grants:
        raise RuleViolation(f"{incident.person} holds no active access to suspend.")
    for grant in grants:
        administering = administering_problem(person=by, system=grant.system)
        if administering:
            audit_refusal(actor=by, action="incident.suspend", target=incident, outcome="refused",
                          detail=administering)
            raise NotAllowed(administering)
    suspended = [grant_suspend(grant=grant, by=by) for grant in grants]
    incident.suspended_by = by
    incident.suspended_at = timezone.now()
    incident._change_reason = "Access suspended pending review"
    incident.save()
    incident.suspended_grants.add(*suspended)
    detail = f"{len(suspended)} grant(s) of {incident.person} suspended"
    audit_record(actor=by, action="incident.suspend", target=incident,
                 detail=f"{detail}: {reason}" if reason else detail)
    context = {"incident": incident, "grants": suspended, "reason": reason, "by": by}
    email_send("incident-suspended", to=emails_of(ITSA_GROUP), context=context)
    email_send("incident-suspended-head", to=_head_emails(incident), context=context)
    return incident


def may_close(*, incident: Incident, user: User) -> bool:
    """The Mayor's designee records the corrective action and closes, never the reporter nor the
    person concerned."""
    return (
        getattr(user, "is_authenticated", False)
        and user.roles.is_designee
        and incident.status == Incident.Status.OPEN
        and incident.person_id != user.pk
        and not is_reporter(incident=incident, user=user)
    )


@service_transaction
def incident_close(*, incident: Incident, corrective_action: str, reinstate: bool = False, by: User) -> Incident:
    """The designee records the corrective action taken and closes the incident (S5.2). With
    `reinstate`, the grants this incident suspended are active again; otherwise they stay
    suspended, to be removed through a written removal request."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if not (getattr(by, "is_authenticated", False) and by.roles.is_designee):
        audit_refusal(actor=by, action="incident.close", target=incident)
        raise NotAllowed("Only the Mayor's designee can record the corrective action and close an incident.")
    _refuse_if_party(incident=incident, by=by, action="incident.close")
    if incident.status == Incident.Status.CLOSED:
        return incident
    corrective_action = clean_text(corrective_action, field="corrective_action", label="corrective action taken")
    reinstated = []
    if reinstate:
        for grant in incident.suspended_grants.select_related("person", "system").order_by("pk"):
            if grant.status != Grant.Status.SUSPENDED:
                continue  # removed or reinstated meanwhile
            try:
                reinstated.append(grant_set_status(grant=grant, status=Grant.Status.ACTIVE, by=by))
            except RuleViolation as refusal:
                raise RuleViolation(
                    f"{grant.person}'s access to {grant.system} cannot be reinstated: {refusal.message} "
                    "Close the incident without reinstating, and have the access changed through a written request.",
                    field="reinstate",
                ) from refusal
    incident.corrective_action = corrective_action
    incident.status = Incident.Status.CLOSED
    incident.closed_by = by
    incident.closed_at = timezone.now()
    incident._change_reason = "Closed with the corrective action"
    incident.save()
    audit_record(actor=by, action="incident.close", target=incident,
                 detail=f"{len(reinstated)} grant(s) reinstated" if reinstate else "suspended grants kept suspended")
    suspended = list(incident.suspended_grants.select_related("person", "system").order_by("pk"))
    if suspended:
        context = {"incident": incident, "grants": suspended, "reinstated": reinstated, "reinstate": reinstate,
                   "by": by}
        email_send("incident-closed", to=emails_of(ITSA_GROUP) + _head_emails(incident), context=context)
    return incident


def seed_demo_incidents(*, reporter: User, person: User, system: SurveillanceSystem, itsa: User) -> Incident:
    """One open incident for the demo: `reporter`'s named report of abuse of `system` by `person`
    (an end user of it), whose active grants `itsa` (an ITSA administrator) has suspended pending
    review. Safe to run twice: an open demo incident about the person is returned as it is."""
    existing = Incident.objects.filter(person=person, system=system, status=Incident.Status.OPEN,
                                       reported_by=reporter).first()
    if existing is not None:
        return existing
    incident = incident_report(
        nature=Incident.Nature.ABUSE,
        description=f"{person} was seen browsing recorded footage of a private residence on {system} with no case "
                    "number, on several evenings, outside any assignment.",
        occurred_on=timezone.localdate(),
        person=person, system=system, anonymous=False, by=reporter,
    )
    if _live_active_grants(person).exists():
        incident = incident_suspend(incident=incident, by=itsa,
                                    reason="Good-faith complaint: access suspended pending the designee's review.")
    return incident
