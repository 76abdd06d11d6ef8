"""Information sharing agreements with third-party public safety organizations (S2.3, S3.7, Table 2).

A city department's head asks for an agreement with a third party, naming its Table 2 category,
what is shared, the conditions and the systems. The Mayor approves it; the Mayor's designee records
that approval (with the date the Mayor gave it) or the denial, and is never the person who asked.
While the agreement is in force, ITSA gives the third party's people view-only end-user grants on
its systems, for the permissible uses of public safety only. When the agreement ends (the
designee ends it early, or it runs out at 00:00, city time, on its end date), every grant under it
is removed the same moment, with history, an audit record and notice.

Every function: lock the row, check who may act, return early when it is already in the target
state, check the rule, write the change (history records it) and the audit event, and send mail only
after commit.
"""

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from accounts.models import DESIGNEE_GROUP, ITSA_GROUP, Department, Grant, SurveillanceSystem, User
from accounts.selectors import emails_of
from accounts.services import grant_open, grant_set_status
from accounts.sod import administering_problem
from portal.audit import audit_record, audit_refusal, lock_audit_chain, service_transaction
from portal.decisions import decision_open, decision_record
from portal.emails import email_send
from portal.errors import NotAllowed, RuleViolation
from portal.table2 import TABLE_2, Category
from portal.text import clean_text

from .models import PUBLIC_SAFETY, AgreementGrant, SharingAgreement
from .selectors import grants_outliving_their_agreement, public_safety_uses

MAX_NAME = 150


def _day(value: date) -> str:
    return f"{value:%B} {value.day}, {value.year}"


def table_2_row(category: str):
    """The row of Table 2 for a category, or None for an unknown one."""
    try:
        return TABLE_2[Category(category)]
    except ValueError:
        return None


# --- Who may act (for the pages' buttons; the services decide) ------------------------------------

def may_request_agreement(user: User) -> bool:
    """Only a department head asks, for the department they head."""
    return user.is_authenticated and user.roles.is_head


def may_decide_agreement(*, agreement: SharingAgreement, user: User) -> bool:
    """The Mayor's designee records the decision, never on an agreement they asked for."""
    return (agreement.status == SharingAgreement.Status.PENDING and user.roles.is_designee
            and not agreement.is_asked_by(user))


def may_end_agreement(*, agreement: SharingAgreement, user: User) -> bool:
    return agreement.status == SharingAgreement.Status.APPROVED and user.roles.is_designee


def may_add_third_party_person(*, agreement: SharingAgreement, user: User, today: date | None = None) -> bool:
    return user.roles.is_itsa and agreement.is_in_force(today or timezone.localdate())


# --- Asking and deciding ---------------------------------------------------------------------------

@service_transaction
def agreement_request(
    *, department: Department, third_party: str, category: str, shared: str, conditions: str,
    excludes_biometric: bool, systems, starts_on: date, ends_on: date, by: User, today: date | None = None,
) -> SharingAgreement:
    """The head of the sponsoring department asks for an agreement with a third party (S3.7, T2)."""
    today = today or timezone.localdate()
    if department.head_id != by.pk:
        audit_refusal(actor=by, action="agreement.request", target=department)
        raise NotAllowed(f"Only the head of {department} can ask for an information sharing agreement.")
    third_party = clean_text(third_party, field="third_party", label="name of the third party", limit=MAX_NAME)
    row = table_2_row(category)
    if row is None:
        raise RuleViolation("Choose the third party's category from Table 2.", field="category")
    if row.shares_nothing:
        raise RuleViolation(
            f"Table 2 shares nothing with {Category(category).label.lower()}, unless a warrant or subpoena "
            "requires it: that is not an information sharing agreement.", field="category",
        )
    shared = clean_text(shared, field="shared", label="description of what is shared")
    conditions = clean_text(conditions, field="conditions", label="conditions")
    if row.excludes_biometric:
        excludes_biometric = True
    systems = list(systems)
    if not systems:
        raise RuleViolation("Name at least one system the third party may view.", field="systems")
    if excludes_biometric:
        biometric = [system.name for system in systems if system.uses_biometrics]
        if biometric:
            why = ("Table 2 excludes biometric data for this category" if row.excludes_biometric
                   else "the agreement excludes biometric data")
            raise RuleViolation(f"{'; '.join(biometric)} uses biometrics, and {why}.", field="systems")
    if starts_on is None or ends_on is None:
        raise RuleViolation("Give the first and the last dates of the agreement.", field="ends_on")
    if ends_on <= starts_on:
        raise RuleViolation("The agreement must end after it starts.", field="ends_on")
    if ends_on <= today:
        raise RuleViolation(f"The agreement would already have ended ({_day(ends_on)}).", field="ends_on")
    Department.objects.select_for_update().get(pk=department.pk)  # one request at a time per department
    overlapping = SharingAgreement.objects.filter(
        department=department, third_party__iexact=third_party,
        status__in=[SharingAgreement.Status.PENDING, SharingAgreement.Status.APPROVED],
        starts_on__lt=ends_on, ends_on__gt=starts_on,
    ).first()
    if overlapping is not None:
        raise RuleViolation(
            f"{department} already has an agreement with {overlapping.third_party} for those dates "
            f"({overlapping.get_status_display().lower()}).", field="third_party",
        )
    agreement = SharingAgreement(
        third_party=third_party, category=category, shared=shared, conditions=conditions,
        excludes_biometric=bool(excludes_biometric), department=department, starts_on=starts_on, ends_on=ends_on,
        requested_by=by,
    )
    agreement._change_reason = f"Asked for by {by}"
    agreement.save()
    agreement.systems.set(systems)
    audit_record(actor=by, action="agreement.request", target=agreement,
                 detail=f"{Category(category).label}; systems: {', '.join(s.name for s in systems)}")
    email_send("agreement-requested", to=emails_of(DESIGNEE_GROUP), context={"agreement": agreement})
    return agreement


@service_transaction
def agreement_decide(
    *, agreement: SharingAgreement, approve: bool, reason: str, by: User, mayor_approved_on: date | None = None,
    today: date | None = None,
) -> SharingAgreement:
    """The Mayor's designee records the Mayor's approval, with its date, or the denial (S3.7)."""
    today = today or timezone.localdate()
    agreement = SharingAgreement.objects.select_for_update().get(pk=agreement.pk)
    target = SharingAgreement.Status.APPROVED if approve else SharingAgreement.Status.DENIED
    reason = decision_open(
        agreement, by=by, reason=reason, outcomes=(target,), pending=SharingAgreement.Status.PENDING,
        what="agreement", action="agreement.decide", may_decide=by.roles.is_designee,
        not_allowed="Only the Mayor's designee records the decision on an information sharing agreement.",
        asked="You asked for this agreement, so somebody else must record the decision.",
    )
    if reason is None:
        return agreement
    if approve:
        if mayor_approved_on is None:
            raise RuleViolation("Give the date of the Mayor's approval (Section 3.7).", field="mayor_approved_on")
        if mayor_approved_on > today:
            raise RuleViolation("The Mayor's approval cannot be dated in the future.", field="mayor_approved_on")
        if agreement.ends_on <= today:
            raise RuleViolation(f"The agreement's end date has passed ({_day(agreement.ends_on)}): ask for a new one.")
    agreement.mayor_approved_on = mayor_approved_on if approve else None
    decision_record(agreement, status=target, reason=reason, by=by, action=f"agreement.{target}",
                    detail=f"Mayor's approval: {mayor_approved_on}" if approve else "",
                    change_reason=f"{'Approved' if approve else 'Denied'}, recorded by {by}")
    recipients = [agreement.requested_by.email]
    if agreement.department.head_id:
        recipients.append(agreement.department.head.email)
    if approve:
        recipients += emails_of(ITSA_GROUP)
    email_send("agreement-decided", to=recipients, context={"agreement": agreement})
    return agreement


# --- Third-party people ------------------------------------------------------------------------------

def _third_party_person(*, agreement: SharingAgreement, full_name: str, email: str) -> User:
    existing = User.objects.select_for_update().filter(email__iexact=email).first()
    if existing is None:
        person = User(email=email, full_name=full_name, organization=agreement.third_party)
        person.set_unusable_password()
        person._change_reason = f"Added under the information sharing agreement with {agreement.third_party}"
        person.save()
        return person
    if existing.department_id is not None or existing.organization.casefold() != agreement.third_party.casefold():
        who = f"works for {existing.organization}" if existing.organization else "is city staff"
        raise RuleViolation(f"{email} belongs to {existing}, who {who}: not a person of {agreement.third_party}.",
                            field="email")
    if not existing.is_active:
        raise RuleViolation(f"{existing} is deactivated and cannot be given access.", field="email")
    return existing


@service_transaction
def third_party_access_add(
    *, agreement: SharingAgreement, full_name: str, email: str, system: SurveillanceSystem, permissible_uses,
    account_name: str, by: User, today: date | None = None,
) -> Grant:
    """ITSA gives a third party's person a view-only end-user grant under an agreement in force (S2.3, S3.7)."""
    today = today or timezone.localdate()
    if not by.roles.is_itsa:
        audit_refusal(actor=by, action="agreement.person_add", target=agreement)
        raise NotAllowed("Only ITSA administrators create accounts for a third party's people.")
    email = User.objects.normalize_email((email or "").replace("\x00", "").strip()).lower()
    if email and email == by.email.lower():
        audit_refusal(actor=by, action="agreement.person_add", target=agreement, detail="for themselves")
        raise NotAllowed("You cannot give yourself access: another ITSA administrator must do it.")
    agreement = SharingAgreement.objects.select_for_update().get(pk=agreement.pk)
    if not agreement.is_in_force(today):
        raise RuleViolation(
            f"The agreement with {agreement.third_party} is not in force "
            f"({agreement.get_status_display().lower()}, {_day(agreement.starts_on)} until {_day(agreement.ends_on)}): "
            "its people cannot be given access.")
    full_name = clean_text(full_name, field="full_name", label="person's full name", limit=MAX_NAME)
    try:
        validate_email(email)
    except ValidationError:
        raise RuleViolation("Enter the person's e-mail address.", field="email") from None
    if len(email) > 254:
        raise RuleViolation("The e-mail address is too long.", field="email")
    account_name = clean_text(account_name, field="account_name", label="account name on the system",
                               limit=MAX_NAME)
    named = agreement.systems.filter(pk=system.pk).first() if system is not None else None
    if named is None:
        raise RuleViolation(f"The agreement with {agreement.third_party} does not cover {system or 'that system'}.",
                            field="system")
    system = named  # as it is now: a system may have become biometric since the agreement
    administering = administering_problem(person=by, system=system)
    if administering:
        audit_refusal(actor=by, action="agreement.person_add", target=agreement, outcome="refused",
                      detail=administering)
        raise NotAllowed(administering)
    if agreement.excludes_biometric and system.uses_biometrics:
        raise RuleViolation(f"{system} uses biometrics, and the agreement excludes biometric data.", field="system")
    uses = list(permissible_uses)
    if not uses:
        raise RuleViolation("Name at least one permissible use of public safety (Table 1).", field="permissible_uses")
    outside = [use for use in uses if use.intended_use.code != PUBLIC_SAFETY]
    if outside:
        raise RuleViolation(
            "A third party's access serves public safety only (Section 3.7), not: "
            f"{'; '.join(str(use) for use in outside)}.", field="permissible_uses")
    person = _third_party_person(agreement=agreement, full_name=full_name, email=email)
    grant = grant_open(
        person=person, system=system, department=agreement.department, role=Grant.Role.END_USER,
        account_name=account_name, permissible_uses=uses, by=by, ends_on=agreement.ends_on, under_agreement=True,
    )
    AgreementGrant.objects.create(grant=grant, agreement=agreement)
    audit_record(actor=by, action="agreement.person_add", target=grant,
                 detail=f"{person} ({agreement.third_party}) view-only on {system} until {agreement.ends_on}")
    head = agreement.department.head
    email_send("agreement-person-added", to=[person.email] + ([head.email] if head else []),
               context={"agreement": agreement, "grant": grant})
    return grant


# --- Ending -----------------------------------------------------------------------------------------

def _close(agreement: SharingAgreement, *, by: User | None, reason: str) -> list[Grant]:
    """End a locked, approved agreement and remove every live grant under it; notice to all concerned."""
    agreement.status = SharingAgreement.Status.ENDED
    agreement.ended_at = timezone.now()
    agreement.ended_by = by
    agreement.end_reason = reason
    agreement._change_reason = f"Ended by {by}" if by else f"Ran out on {_day(agreement.ends_on)}"
    agreement.save()
    removed = []
    for grant in agreement.grants.filter(status__in=Grant.LIVE_STATUSES).select_related("person", "system"):
        removed.append(grant_set_status(grant=grant, status=Grant.Status.REMOVED, by=by,
                                        reason=f"the agreement with {agreement.third_party} ended"))
    audit_record(actor=by, action="agreement.end", target=agreement,
                 detail=f"{reason} Grants removed: {len(removed)}.")
    _end_notice(agreement, removed)
    return removed


def _end_notice(agreement: SharingAgreement, removed: list[Grant]) -> None:
    context = {"agreement": agreement, "grants": removed}
    head = agreement.department.head
    email_send("agreement-ended", to=[head.email] if head else [], context=context)
    if removed:
        email_send("agreement-ended-itsa", to=emails_of(ITSA_GROUP), context=context)
        email_send("agreement-ended-third-party", to=sorted({grant.person.email for grant in removed}),
                   context=context)


@service_transaction
def agreement_end(*, agreement: SharingAgreement, reason: str, by: User) -> SharingAgreement:
    """The Mayor's designee ends an agreement before its end date: its grants are removed at once."""
    agreement = SharingAgreement.objects.select_for_update().get(pk=agreement.pk)
    if agreement.status == SharingAgreement.Status.ENDED and agreement.ended_by_id == by.pk:
        return agreement
    if not by.roles.is_designee:
        audit_refusal(actor=by, action="agreement.end", target=agreement)
        raise NotAllowed("Only the Mayor's designee can end an information sharing agreement.")
    if agreement.status != SharingAgreement.Status.APPROVED:
        raise RuleViolation(f"Only an approved agreement can be ended; this one is "
                            f"{agreement.get_status_display().lower()}.")
    reason = clean_text(reason, field="reason", label="reason for ending the agreement")
    _close(agreement, by=by, reason=reason)
    return agreement


def agreements_daily(*, today: date | None = None) -> int:
    """At 00:00, city time, on its end date, an approved agreement ends by itself (no person ends
    it) and every grant under it is removed the same day, with notice. Also removes any live grant
    whose agreement is no longer in force. Each agreement in its own transaction; a second run
    changes nothing. Returns how many agreements ended."""
    today = today or timezone.localdate()
    ended = 0
    due = SharingAgreement.objects.filter(status=SharingAgreement.Status.APPROVED, ends_on__lte=today)
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            lock_audit_chain()
            agreement = SharingAgreement.objects.select_for_update().get(pk=pk)
            if agreement.status != SharingAgreement.Status.APPROVED or agreement.ends_on > today:
                continue
            _close(agreement, by=None, reason=f"The agreement ran out at 00:00 on {_day(agreement.ends_on)}.")
            ended += 1
    # A grant outliving its agreement (which no path should leave): removed the same way.
    for grant in list(grants_outliving_their_agreement(today=today)):
        with transaction.atomic():
            lock_audit_chain()
            grant = grant_set_status(grant=grant, status=Grant.Status.REMOVED, by=None,
                                     reason="its sharing agreement is no longer in force")
            audit_record(actor=None, action="agreement.grant_remove", target=grant,
                         detail="its sharing agreement is no longer in force")
    return ended


# --- Demo data ----------------------------------------------------------------------------------------

DEMO_THIRD_PARTY = "County Sheriff's Office"


def seed_demo_agreements(
    *, department: Department, system: SurveillanceSystem, designee: User, itsa: User, today: date | None = None,
) -> SharingAgreement:
    """An approved agreement with the County Sheriff's Office (external law enforcement), view-only
    access to `system`, and one deputy holding a view-only grant. `department` must have a head
    (who asks), `designee` must be a Mayor's designee other than that head and `itsa` an ITSA
    administrator. Runs once: a second call returns the agreement it made."""
    today = today or timezone.localdate()
    existing = SharingAgreement.objects.filter(department=department, third_party=DEMO_THIRD_PARTY).first()
    if existing is not None:
        return existing
    agreement = agreement_request(
        department=department, third_party=DEMO_THIRD_PARTY, category=Category.LAW_ENFORCEMENT,
        shared="View-only access to current and historical video on the city's video management system.",
        conditions="In conjunction with an active criminal investigation or prosecution, as required by law or "
                   "by a court order. No copies leave the city's system.",
        excludes_biometric=True, systems=[system], starts_on=today, ends_on=today + timedelta(days=365),
        by=department.head, today=today,
    )
    agreement = agreement_decide(agreement=agreement, approve=True, reason="Joint investigations with the county.",
                                 mayor_approved_on=today, by=designee, today=today)
    third_party_access_add(
        agreement=agreement, full_name="Dale Deputy", email="deputy@sheriff.example", system=system,
        permissible_uses=public_safety_uses()[:1], account_name="sheriff-ddeputy", by=itsa, today=today,
    )
    return agreement
