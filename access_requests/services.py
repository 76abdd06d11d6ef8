"""Changes of state for department access, access requests, documents and status changes.

Every function: lock the row, check who may act, return early when it is already in the target
state (a double submit has one effect, for those who may act only), check the rule, write the
change (history records it) and the audit event, and send mail only after commit. Denied and
refused attempts are recorded with `audit_refusal`, which outlives the rollback.
"""

import hashlib
import os
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

import filetype
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, QuerySet
from django.db.models.functions import Length
from django.template.loader import render_to_string
from django.utils import timezone
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from accounts.models import DESIGNEE_GROUP, ITSA_GROUP, Department, Grant, SodFinding, SurveillanceSystem, User
from accounts.selectors import emails_of
from accounts.services import (
    grant_change, grant_open, grant_set_status, is_authorized_requester, lock_person, out_of_scope_problem,
    third_party_access_problem,
)
from accounts.sod import administering_problem, end_user_grants, sod_conflict, sod_finding_record
from agreements.selectors import grant_is_under_agreement
from portal.audit import audit_record, audit_refusal, service_transaction
from portal.decisions import decision_open, decision_record, refuse_decider
from portal.emails import email_send
from portal.errors import NotAllowed, RuleViolation
from portal.models import IntendedUse, PermissibleUse
from portal.pdf import render_document
from portal.text import clean_text
from security.services import grant_suspend

from .models import DOCUMENT_TYPES, AccessRequest, DepartmentAccess, StatusChange, SupportingDocument, WrittenRequest


# --- Department access (3.4) -------------------------------------------------------------------

def department_is_authorized(*, department: Department, system: SurveillanceSystem) -> bool:
    return DepartmentAccess.objects.filter(
        department=department, system=system, status=DepartmentAccess.Status.GRANTED
    ).exists()


def authorized_uses(*, department: Department, system: SurveillanceSystem) -> QuerySet[PermissibleUse]:
    """The permissible uses the department may name for the system: those of its granted intended uses."""
    return PermissibleUse.objects.filter(
        intended_use__in=IntendedUse.objects.filter(
            pk__in=DepartmentAccess.intended_uses.through.objects.filter(
                departmentaccess__department=department,
                departmentaccess__system=system,
                departmentaccess__status=DepartmentAccess.Status.GRANTED,
            ).values("intendeduse")
        )
    ).select_related("intended_use")


@service_transaction
def department_access_request(
    *, department: Department, system: SurveillanceSystem, intended_uses, business_need: str, by: User
) -> DepartmentAccess:
    """The department head asks, electronically, for the department to use a system (S3.4a)."""
    if department.head_id != by.pk:
        audit_refusal(actor=by, action="department_access.request", target=department)
        raise NotAllowed(f"Only the head of {department} can ask for department access.")
    outside = out_of_scope_problem(department=department)
    if outside:
        audit_refusal(actor=by, action="department_access.request", target=department, outcome="refused",
                      detail=outside)
        raise RuleViolation(outside)
    business_need = clean_text(business_need, field="business_need", label="business need")
    intended_uses = list(intended_uses)
    if not intended_uses:
        raise RuleViolation("Choose at least one intended use from Table 1.", field="intended_uses")
    existing = DepartmentAccess.objects.select_for_update().filter(
        department=department, system=system, status__in=[DepartmentAccess.Status.PENDING, DepartmentAccess.Status.GRANTED]
    ).first()
    if existing is not None:
        raise RuleViolation(
            f"{department} already has {'access to' if existing.status == 'granted' else 'a pending request for'} "
            f"{system}.", field="system",
        )
    access = DepartmentAccess.objects.create(
        department=department, system=system, business_need=business_need, requested_by=by
    )
    access.intended_uses.set(intended_uses)
    audit_record(actor=by, action="department_access.request", target=access)
    designees = User.objects.filter(groups__name="Mayor's designees", is_active=True)
    email_send("department-access-requested", to=[u.email for u in designees], context={"access": access})
    return access


def may_decide_department_access(*, access: DepartmentAccess, user: User) -> bool:
    """The Mayor's designee decides (S3.4b), never on a request they filed themselves."""
    return user.roles.is_designee and not access.is_asked_by(user)


@service_transaction
def department_access_decide(*, access: DepartmentAccess, grant: bool, reason: str, by: User) -> DepartmentAccess:
    """The Mayor's designee grants or denies department access, with a reason (S3.4b)."""
    access = DepartmentAccess.objects.select_for_update().get(pk=access.pk)
    target = DepartmentAccess.Status.GRANTED if grant else DepartmentAccess.Status.DENIED
    reason = decision_open(
        access, by=by, reason=reason, outcomes=(target,), pending=DepartmentAccess.Status.PENDING, what="request",
        action="department_access.decide", may_decide=by.roles.is_designee,
        not_allowed="Only the Mayor's designee can grant or deny department access.",
        asked="You asked for this access, so somebody else must decide it.",
    )
    if reason is None:
        return access
    # Denying stays open to close the request; granting is refused to a body outside the order (S1).
    outside = grant and out_of_scope_problem(department=access.department, lock=True)
    if outside:
        audit_refusal(actor=by, action="department_access.decide", target=access, outcome="refused", detail=outside)
        raise RuleViolation(outside)
    decision_record(access, status=target, reason=reason, by=by, action=f"department_access.{target}")
    email_send("department-access-decided", to=[access.requested_by.email], context={"access": access})
    return access


def may_revoke_department_access(*, access: DepartmentAccess, user: User) -> bool:
    """The Mayor's designee takes granted access back (3.4), never access they asked for themselves."""
    return access.is_granted and user.roles.is_designee and not access.is_asked_by(user)


@service_transaction
def department_access_revoke(*, access: DepartmentAccess, reason: str, by: User) -> DepartmentAccess:
    """The Mayor's designee revokes a department's access to a system, with a reason (3.4): every live
    grant of the department on the system goes to ITSA for removal, and new requests are refused."""
    access = DepartmentAccess.objects.select_for_update().select_related("department", "system").get(pk=access.pk)
    if access.status == DepartmentAccess.Status.REVOKED and access.revoked_by_id == by.pk:
        return access
    refuse_decider(
        access, by=by, action="department_access.revoke", may_decide=by.roles.is_designee,
        not_allowed="Only the Mayor's designee can revoke department access.",
        asked="You asked for this access, so somebody else must revoke it.",
    )
    if not access.is_granted:
        raise RuleViolation(
            f"Only granted department access can be revoked; this one is {access.get_status_display().lower()}."
        )
    reason = clean_text(reason, field="reason", label="reason for revoking the access")
    access.status = DepartmentAccess.Status.REVOKED
    access.revoked_at = timezone.now()
    access.revoked_by = by
    access.revoke_reason = reason
    access._change_reason = f"Revoked by {by}"[:100]
    access.save()
    justification = (f"The Mayor's designee revoked {access.department}'s access to {access.system} "
                     f"on {timezone.localdate(access.revoked_at):%B %-d, %Y}: {reason}")
    # Locked so a grant provisioned at the same moment is either seen here or refused afterwards.
    grants = (Grant.objects.select_for_update().filter(department=access.department, system=access.system,
                                                       status__in=Grant.LIVE_STATUSES).order_by("pk"))
    removals = [
        access_request_queue_for_itsa(grant=grant, action=AccessRequest.Action.REMOVE, role=grant.role, by=by,
                                      justification=justification)
        for grant in grants
    ]
    audit_record(actor=by, action="department_access.revoke", target=access,
                 detail=f"{len(removals)} grant(s) queued for removal. {reason}")
    context = {"access": access, "removals": removals}
    head = access.department.head
    email_send("department-access-revoked", to=[head.email] if head else [], context=context)
    email_send("department-access-revoked-itsa", to=emails_of(ITSA_GROUP), context=context)
    return access


# --- Written access requests (3.4–3.5) ---------------------------------------------------------

def request_reference(*, year: int, number: int) -> str:
    """The reference of the `number`th request filed in `year`, city time."""
    return f"AR-{year}-{number:05d}"


def _next_reference() -> str:
    year = timezone.localdate().year
    # The longest reference first: as text, "AR-2026-99999" sorts after "AR-2026-100000".
    last = (
        AccessRequest.objects.filter(reference__startswith=f"AR-{year}-")
        .order_by(Length("reference").desc(), "-reference")
        .values_list("reference", flat=True).first()
    )
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return request_reference(year=year, number=number)


def _save_written(request: AccessRequest, uses: list[PermissibleUse], *, attempts: int = 5) -> None:
    """Number a new request, freeze its written text (which carries the number) and save it.

    Two filings at the same moment can pick the same number: the unique index makes the later one
    wait for the first to commit and then refuses it, so it takes the number after."""
    for attempt in range(attempts):
        request.reference = _next_reference()
        request.written_text = written_request_text(request, uses)
        request.written_sha256 = written_fingerprint(request.written_text)
        try:
            with transaction.atomic():
                request.save()
            return
        except IntegrityError:
            taken = AccessRequest.objects.filter(reference=request.reference).exists()
            if not taken or attempt == attempts - 1:
                raise


def _arriving_roles(*, person: User, system: SurveillanceSystem, exclude_pk: int | None = None) -> list[str]:
    return list(
        AccessRequest.objects.filter(
            person=person, system=system, status__in=AccessRequest.OPEN_STATUSES,
            action__in=[AccessRequest.Action.ADD, AccessRequest.Action.CHANGE],
        ).exclude(pk=exclude_pk).values_list("role", flat=True)
    )


def _sod_check(request_like, *, exclude_pk: int | None = None) -> str | None:
    """The separation-of-duties question for a request, filed or about to be: a reinstatement gives
    the role back, so it is asked too."""
    if request_like.action not in (AccessRequest.Action.ADD, AccessRequest.Action.CHANGE,
                                   AccessRequest.Action.REINSTATE):
        return None
    return sod_conflict(
        person=request_like.person,
        system=request_like.system,
        roles=[request_like.role],
        ignore_grant_ids=[request_like.grant.pk] if request_like.grant else [],
        also_arriving=_arriving_roles(person=request_like.person, system=request_like.system, exclude_pk=exclude_pk),
    )


# --- Temporary access (Definitions) -------------------------------------------------------------

# "Temporary" is less than thirty days (Definitions): the longest temporary access is 29 days.
TEMPORARY_MAX_DAYS = 29


def temporary_end_problem(*, action: str, ends_on: date | None, today: date | None = None) -> str | None:
    """What is wrong with a request's end date, in the user's words, or None. Access ends at 00:00,
    city time, on `ends_on`; its length is counted in days from today (Def.T)."""
    if ends_on is None:
        return None
    if action != AccessRequest.Action.ADD:
        return ("Only a request to add access can carry an end date. Leave “Temporary access ends” empty, "
                "or file a removal when the access should end.")
    today = today or timezone.localdate()
    days = (ends_on - today).days
    if days < 1:
        return (f"Temporary access must end after today: {ends_on:%-d %B %Y} is "
                f"{'today' if days == 0 else 'in the past'}.")
    if days > TEMPORARY_MAX_DAYS:
        latest = today + timedelta(days=TEMPORARY_MAX_DAYS)
        return (f"Temporary access is less than 30 days (Definitions, “Temporary”): {ends_on:%-d %B %Y} is {days} "
                f"days away. Choose {latest:%-d %B %Y} or earlier, or leave the end date empty for access "
                "without an end date.")
    return None


@dataclass
class Draft:
    """What the form has so far; used to preview the rules before filing."""

    department: Department
    person: User
    system: SurveillanceSystem
    action: str
    role: str
    grant: Grant | None = None


def access_request_preview(*, department: Department, person: User, system: SurveillanceSystem, action: str,
                           role: str, ends_on: date | None = None) -> list[str]:
    """The problems filing would meet right now, in the user's words (inline form feedback)."""
    problems = []
    ending = temporary_end_problem(action=action, ends_on=ends_on)
    if ending:
        problems.append(ending)
    grant = _live_grant(person=person, system=system)
    if action in (AccessRequest.Action.ADD, AccessRequest.Action.CHANGE) and not department_is_authorized(
        department=department, system=system
    ):
        problems.append(f"{department} is not authorized to use {system}. Ask the Mayor's designee for department access first.")
    conflict = _sod_check(Draft(department, person, system, action, role, grant if action != "add" else None))
    if conflict:
        problems.append(conflict)
    return problems


def _live_grant(*, person: User, system: SurveillanceSystem, role: str | None = None) -> Grant | None:
    grants = Grant.objects.filter(person=person, system=system, status__in=Grant.LIVE_STATUSES)
    if role:
        grants = grants.filter(role=role)
    return grants.order_by("pk").first()


def _keep_written_pdf(request: AccessRequest, uses: list[PermissibleUse]) -> WrittenRequest:
    """Render the written request as filed and keep it, in the submission's transaction (S3.4d)."""
    document = render_document("pdf/access_request.html", {"r": request, "uses": uses})
    return WrittenRequest.objects.create(request=request, pdf=document.content, sha256=document.sha256)


def written_request_text(request: AccessRequest, uses: list[PermissibleUse]) -> str:
    return render_to_string("requests/written_request.txt", {"r": request, "uses": uses})


def written_fingerprint(text: str) -> str:
    """The SHA-256 kept beside a request's written text, so a text changed afterwards shows."""
    return hashlib.sha256(text.encode()).hexdigest()


def condition_statement_check(uses: list[PermissibleUse], statement: str) -> str:
    """The statement of how the uses' conditions are met, cleaned; refused when a use's conditions
    need one and it is missing (T1c). Quotes each condition and what to give for it."""
    statement = clean_text(statement, field="condition_statement", label="statement of how the conditions are met",
                           required=False)
    if statement:
        return statement
    needing = {use.intended_use_id: use.intended_use for use in uses if use.intended_use.statement_prompt}
    if needing:
        asks = " ".join(
            f"{intended.name}: “{' '.join(intended.condition_list())}” {intended.statement_prompt}"
            for intended in sorted(needing.values(), key=lambda i: i.position)
        )
        raise RuleViolation(f"State how the conditions of Table 1 are met. {asks}", field="condition_statement")
    return statement


def filed_as_approved(*, department: Department, person: User, by: User) -> bool:
    """A head's own filing counts as approval, except for the head's own access (S3.4c)."""
    return department.head_id == by.pk and person.pk != by.pk


@service_transaction
def access_request_submit(
    *,
    department: Department,
    person: User,
    system: SurveillanceSystem,
    action: str,
    role: str,
    permissible_uses,
    justification: str,
    by: User,
    grant: Grant | None = None,
    documents=(),
    ends_on: date | None = None,
    condition_statement: str = "",
) -> AccessRequest:
    """File a written end-user access request. Only authorized requesters may file (S3.3).

    `ends_on` makes an added access temporary (Def.T): it ends at 00:00, city time, on that day,
    less than 30 days from now. `condition_statement` says how the conditions of the uses named are
    met, where Table 1 ties them to a case, a direction, a property or an order (T1c)."""
    if not is_authorized_requester(person=by, department=department):
        audit_refusal(actor=by, action="access_request.submit", target=department)
        raise NotAllowed(
            f"You are not on the list of authorized requesters that ITSA keeps for {department} (Section 3.3). "
            "Ask your department head to have ITSA add you."
        )
    if action not in AccessRequest.FILED_ACTIONS:
        raise RuleViolation("Choose whether to add, change, remove or suspend access.", field="action")
    if role not in Grant.Role.values:
        raise RuleViolation("Choose a role.", field="role")
    ending = temporary_end_problem(action=action, ends_on=ends_on)
    if ending:
        raise RuleViolation(ending, field="ends_on")
    if person.department_id != department.pk:
        raise RuleViolation(f"{person} does not work for {department}.", field="person")
    justification = clean_text(justification, field="justification", label="justification")
    uses = list(permissible_uses)
    lock_person(person)

    if action == AccessRequest.Action.ADD:
        grant = None
        if not person.is_active or person.employment_status != User.EmploymentStatus.ACTIVE:
            raise RuleViolation(f"{person} is not an active employee and cannot be given access.", field="person")
        if _live_grant(person=person, system=system, role=role):
            raise RuleViolation(f"{person} already holds this role on {system}. Ask for a change instead.", field="role")
    else:
        grant = grant or _live_grant(person=person, system=system)
        if grant is None or not grant.is_live or grant.person_id != person.pk or grant.system_id != system.pk:
            raise RuleViolation(f"{person} holds no access to {system} to {action}.", field="action")
        if action == AccessRequest.Action.REMOVE or action == AccessRequest.Action.SUSPEND:
            role = grant.role
            uses = uses or list(grant.permissible_uses.all())

    if action in (AccessRequest.Action.ADD, AccessRequest.Action.CHANGE):
        # Removing or suspending access stays open: only giving access is refused outside the order (S1).
        outside = out_of_scope_problem(department=department)
        if outside:
            audit_refusal(actor=by, action="access_request.submit", target=department, outcome="refused",
                          detail=outside)
            raise RuleViolation(outside)
        if not department_is_authorized(department=department, system=system):
            raise RuleViolation(
                f"{department} is not authorized to use {system}. Ask the Mayor's designee for department access first.",
                field="system",
            )
        if not uses:
            raise RuleViolation("Name at least one permissible use from Table 1 (Section 2.2).", field="permissible_uses")
        allowed = set(authorized_uses(department=department, system=system).values_list("pk", flat=True))
        outside = [use for use in uses if use.pk not in allowed]
        if outside:
            raise RuleViolation(
                f"{department}'s access to {system} does not cover: {'; '.join(str(u) for u in outside)}.",
                field="permissible_uses",
            )
        if action == AccessRequest.Action.CHANGE and grant.role == role and set(
            grant.permissible_uses.values_list("pk", flat=True)
        ) == {u.pk for u in uses}:
            raise RuleViolation("This change asks for what the person already has.", field="role")
        condition_statement = condition_statement_check(uses, condition_statement)
    else:
        # Taking access away meets no condition: nothing to state.
        condition_statement = ""

    duplicate = AccessRequest.objects.filter(
        person=person, system=system, action=action, role=role, status__in=AccessRequest.OPEN_STATUSES
    ).first()
    if duplicate:
        raise RuleViolation(f"The same request is already in flight: {duplicate.reference}.")

    draft = Draft(department, person, system, action, role, grant)
    conflict = _sod_check(draft)
    if conflict:
        audit_refusal(actor=by, action="access_request.submit", target=f"{person} on {system}", outcome="refused",
                      detail=conflict)
        sod_finding_record(person=person, system=system, stage=SodFinding.Stage.FILING, detail=conflict)
        raise RuleViolation(conflict, field="role")

    checked_documents = [_check_upload(upload) for upload in documents]

    now = timezone.now()
    head_files_for_other = filed_as_approved(department=department, person=person, by=by)
    request = AccessRequest(
        department=department, person=person, system=system, action=action,
        role=role, justification=justification, grant=grant, requested_by=by, submitted_at=now, ends_on=ends_on,
        condition_statement=condition_statement,
        status=AccessRequest.Status.WITH_ITSA if head_files_for_other else AccessRequest.Status.AWAITING_HEAD,
        approved_by=by if head_files_for_other else None, approved_at=now if head_files_for_other else None,
    )
    _save_written(request, uses)
    request.permissible_uses.set(uses)
    _keep_written_pdf(request, uses)
    for checked in checked_documents:
        _store_document(request=request, checked=checked, by=by)
    audit_record(actor=by, action="access_request.submit", target=request)
    if request.is_with_itsa:
        audit_record(actor=by, action="access_request.approve", target=request, detail="filed by the head")
        email_send("request-with-itsa", to=emails_of(ITSA_GROUP), context={"r": request})
    else:
        email_send("request-awaiting-head", to=[u.email for u in _approvers_for(request)], context={"r": request})
    return request


def _approvers_for(request: AccessRequest) -> list[User]:
    """Who may approve (see may_approve): the head, or for the head's own access the Mayor's designees."""
    head = request.department.head
    if head is not None and head.pk != request.person_id:
        return [head]
    return list(User.objects.filter(groups__name=DESIGNEE_GROUP, is_active=True).exclude(pk=request.person_id))


def may_approve(*, request: AccessRequest, user: User) -> bool:
    """The head approves their people; nobody approves their own access, so a head's own request
    goes to the Mayor's designee."""
    if user.pk == request.person_id:
        return False
    head_id = request.department.head_id
    if head_id == user.pk:
        return True
    # The head is the subject, or the department has no head: the Mayor's designee decides.
    return (head_id is None or head_id == request.person_id) and user.roles.is_designee


@service_transaction
def access_request_approve(*, request: AccessRequest, by: User) -> AccessRequest:
    request = AccessRequest.objects.select_for_update().get(pk=request.pk)
    if not may_approve(request=request, user=by):
        audit_refusal(actor=by, action="access_request.approve", target=request)
        if by.pk == request.person_id:
            raise NotAllowed("Nobody approves their own access. Another approver must decide this request.")
        raise NotAllowed(f"Only the head of {request.department} can approve this request.")
    if request.approved_by_id is not None and request.status in (
        AccessRequest.Status.WITH_ITSA, AccessRequest.Status.COMPLETED
    ):
        return request
    if not request.is_awaiting_head:
        raise RuleViolation(f"This request is {request.get_status_display().lower()} and cannot be approved.")
    outside = request.adds_access and out_of_scope_problem(department=request.department)
    if outside:
        audit_refusal(actor=by, action="access_request.approve", target=request, outcome="refused", detail=outside)
        raise RuleViolation(outside)
    if request.adds_access and not department_is_authorized(department=request.department, system=request.system):
        raise RuleViolation(f"{request.department} is no longer authorized to use {request.system}.")
    conflict = _sod_check(request, exclude_pk=request.pk)
    if conflict:
        audit_refusal(actor=by, action="access_request.approve", target=request, outcome="refused", detail=conflict)
        sod_finding_record(person=request.person, system=request.system, stage=SodFinding.Stage.APPROVAL,
                           detail=conflict)
        raise RuleViolation(conflict)
    request.status = AccessRequest.Status.WITH_ITSA
    request.approved_by = by
    request.approved_at = timezone.now()
    request.save(update_fields=["status", "approved_by", "approved_at"])
    audit_record(actor=by, action="access_request.approve", target=request)
    email_send("request-with-itsa", to=emails_of(ITSA_GROUP), context={"r": request})
    return request


@service_transaction
def access_request_decline(*, request: AccessRequest, reason: str, by: User) -> AccessRequest:
    request = AccessRequest.objects.select_for_update().get(pk=request.pk)
    if not may_approve(request=request, user=by):
        audit_refusal(actor=by, action="access_request.decline", target=request)
        raise NotAllowed(f"Only the head of {request.department} can decline this request.")
    if request.status == AccessRequest.Status.DECLINED:
        return request
    if not request.is_awaiting_head:
        raise RuleViolation(f"This request is {request.get_status_display().lower()} and cannot be declined.")
    request.head_reason = clean_text(reason, field="reason", label="reason")
    request.status = AccessRequest.Status.DECLINED
    request.approved_by = by
    request.approved_at = timezone.now()
    request.save(update_fields=["status", "head_reason", "approved_by", "approved_at"])
    audit_record(actor=by, action="access_request.decline", target=request)
    email_send("request-closed", to=[request.requested_by.email], context={"r": request})
    return request


def may_withdraw(*, request: AccessRequest, user: User) -> bool:
    """The person who filed an open request, or the department head, may take it back."""
    return request.is_open and user.pk in (request.requested_by_id, request.department.head_id)


@service_transaction
def access_request_withdraw(*, request: AccessRequest, by: User) -> AccessRequest:
    request = AccessRequest.objects.select_for_update().get(pk=request.pk)
    if by.pk not in (request.requested_by_id, request.department.head_id):
        audit_refusal(actor=by, action="access_request.withdraw", target=request)
        raise NotAllowed("Only the person who filed the request or the department head can withdraw it.")
    if request.status == AccessRequest.Status.WITHDRAWN:
        return request
    if not request.is_open:
        raise RuleViolation(f"This request is {request.get_status_display().lower()} and cannot be withdrawn.")
    request.status = AccessRequest.Status.WITHDRAWN
    request.save(update_fields=["status"])
    audit_record(actor=by, action="access_request.withdraw", target=request)
    return request


def _provision_refusal(*, request: AccessRequest, user: User) -> tuple[str, bool] | None:
    """Why `user` may not provision `request`, in their words, and whether it is separation of
    duties (S3.2c); None when they may."""
    if not user.roles.is_itsa:
        return "Only ITSA administrators create and manage accounts (Section 3.5).", False
    if user.pk == request.person_id:
        return "This request is about you: another member of ITSA must provision it.", True
    if user.pk == request.requested_by_id:
        return "You filed this request, so another ITSA administrator must provision it.", False
    problem = administering_problem(person=user, system=request.system)
    return (problem, True) if problem else None


def provision_refusal(*, request: AccessRequest, user: User) -> str | None:
    """Why `user` may not provision `request`, in their words, or None. Only ITSA creates and
    manages accounts (S3.5b), never for a request they filed. Creating, changing, suspending or
    removing an account is administering the system (S3.2c): never on a system they hold end-user
    access to (accounts.sod.administering_problem), never for themselves."""
    refusal = _provision_refusal(request=request, user=user)
    return refusal[0] if refusal else None


def may_provision(*, request: AccessRequest, user: User) -> bool:
    return provision_refusal(request=request, user=user) is None


def provisioners(*, request: AccessRequest) -> QuerySet[User]:
    """The active members of ITSA who may provision `request` (provision_refusal): the page's
    "who can do it"."""
    return (
        User.objects.filter(groups__name=ITSA_GROUP, is_active=True)
        .exclude(pk__in=[request.person_id, request.requested_by_id])
        .exclude(pk__in=end_user_grants(system=request.system).values("person"))
        .distinct().order_by("full_name", "email")
    )


def _administering_detail(request: AccessRequest, by: User) -> str:
    """A refused S3.2c provisioning, as the finding keeps it."""
    what = f"{request.reference}, {request.get_action_display().lower()} for {request.person} on {request.system}"
    if by.pk == request.person_id:
        return f"{by} tried to provision their own request: {what} (Section 3.2: nobody does it for themselves)."
    return (f"{by} holds end-user access to {request.system} and tried to provision {what} (Section 3.2: "
            "creating, changing or removing accounts on a system is administering it).")


@service_transaction
def access_request_provision(*, request: AccessRequest, by: User, account_name: str = "") -> AccessRequest:
    """ITSA carries out an approved request: creates, changes, suspends or removes the account."""
    request = AccessRequest.objects.select_for_update().get(pk=request.pk)
    refusal = _provision_refusal(request=request, user=by)
    if refusal is not None:
        message, separation_of_duties = refusal
        if separation_of_duties:
            audit_refusal(actor=by, action="access_request.provision", target=request, outcome="refused",
                          detail=message)
            sod_finding_record(person=by, system=request.system, stage=SodFinding.Stage.PROVISIONING,
                               detail=_administering_detail(request, by))
        else:
            audit_refusal(actor=by, action="access_request.provision", target=request)
        raise NotAllowed(message)
    if request.status == AccessRequest.Status.COMPLETED:
        return request
    if not request.is_with_itsa:
        raise RuleViolation(f"This request is {request.get_status_display().lower()}; only approved requests can be provisioned.")
    outside = request.adds_access and out_of_scope_problem(department=request.department, lock=True)
    if outside:
        audit_refusal(actor=by, action="access_request.provision", target=request, outcome="refused", detail=outside)
        raise RuleViolation(outside)
    # Department access revoked after the head approved: no new access on that system (3.4).
    if request.adds_access and not department_is_authorized(department=request.department, system=request.system):
        unauthorized = (f"{request.department} is no longer authorized to use {request.system}: its department "
                        "access was revoked. Return the request to the department.")
        audit_refusal(actor=by, action="access_request.provision", target=request, outcome="refused",
                      detail=unauthorized)
        raise RuleViolation(unauthorized)
    account_name = (account_name or "").replace("\x00", "").strip()
    if len(account_name) > 150:
        raise RuleViolation("The account name is too long (150 characters at most).", field="account_name")
    uses = list(request.permissible_uses.all())
    status_before = (Grant.objects.filter(pk=request.grant_id).values_list("status", flat=True).first()
                     if request.grant_id else "")
    try:
        if request.action == AccessRequest.Action.REINSTATE:
            _reinstate_check(request)
        if request.action == AccessRequest.Action.ADD and request.ends_on is not None and (
            request.ends_on <= timezone.localdate()
        ):
            raise RuleViolation(
                f"The temporary access asked for ended at 00:00 on {request.ends_on:%-d %B %Y}, so no account can be "
                "created for it. Return the request to the department, which can file a new one (Definitions, "
                "“Temporary”)."
            )
        if request.action == AccessRequest.Action.ADD:
            if not account_name:
                raise RuleViolation("Enter the account name created on the system.", field="account_name")
            grant = grant_open(
                person=request.person, system=request.system, department=request.department, role=request.role,
                account_name=account_name, permissible_uses=uses, by=by, ends_on=request.ends_on,
            )
        elif request.action == AccessRequest.Action.CHANGE:
            grant = grant_change(grant=request.grant, role=request.role, permissible_uses=uses,
                                 account_name=account_name, by=by)
        else:
            if request.action == AccessRequest.Action.REMOVE:
                grant = grant_set_status(grant=request.grant, status=Grant.Status.REMOVED, by=by)
            elif request.action == AccessRequest.Action.REINSTATE:
                grant = grant_set_status(grant=request.grant, status=Grant.Status.ACTIVE, by=by)
            else:
                grant = grant_suspend(grant=request.grant, by=by)
    except RuleViolation as refusal:
        audit_refusal(actor=by, action="access_request.provision", target=request, outcome="refused",
                      detail=refusal.message)
        if refusal.message == _sod_check(request, exclude_pk=request.pk):  # the grant refused it for 3.2
            sod_finding_record(person=request.person, system=request.system, stage=SodFinding.Stage.PROVISIONING,
                               detail=refusal.message)
        raise
    request.grant = grant
    request.status = AccessRequest.Status.COMPLETED
    request.processed_by = by
    request.processed_at = timezone.now()
    request.account_name = grant.account_name
    request.grant_status_before = status_before or ""
    request.save(update_fields=["grant", "status", "processed_by", "processed_at", "account_name",
                                "grant_status_before"])
    audit_record(actor=by, action="access_request.provision", target=request, detail=f"grant {grant.pk}")
    email_send("request-closed", to=[request.requested_by.email, request.department.head.email
                                     if request.department.head else ""], context={"r": request})
    return request


def _reinstate_check(request: AccessRequest) -> None:
    """A suspended grant given back after a leave (3.5): refused when the person is away again or
    gone, works elsewhere now, a removal of the grant is on its way, or the access has ended."""
    person = User.objects.get(pk=request.person_id)
    grant = Grant.objects.get(pk=request.grant_id)
    back = "Return the request to the department."
    if not person.is_active or person.employment_status in (User.EmploymentStatus.LEFT,
                                                             User.EmploymentStatus.ON_LEAVE):
        state = "deactivated" if not person.is_active else person.get_employment_status_display().lower()
        raise RuleViolation(f"{person} is {state} now, so their access to {request.system} cannot be reinstated. "
                            f"{back}")
    if person.department_id != grant.department_id:
        raise RuleViolation(f"{person} no longer works for {grant.department}, so this access cannot be reinstated. "
                            f"{back}")
    if grant.ends_on is not None and grant.ends_on <= timezone.localdate():
        raise RuleViolation(f"This access ended at 00:00 on {grant.ends_on:%-d %B %Y}, so it cannot be reinstated. "
                            f"{back} The department can file a new request.")
    removal = AccessRequest.objects.filter(grant=grant, action=AccessRequest.Action.REMOVE,
                                           status__in=AccessRequest.OPEN_STATUSES).first()
    if removal is not None:
        raise RuleViolation(f"Removal request {removal.reference} of this access is open, so it cannot be "
                            f"reinstated. {back}")


def may_return(*, request: AccessRequest, user: User) -> bool:
    """Only ITSA sends an approved request back to the department."""
    return user.roles.is_itsa and request.is_with_itsa


@service_transaction
def access_request_return(*, request: AccessRequest, reason: str, by: User) -> AccessRequest:
    """ITSA sends an approved request back with a reason, without changing any account."""
    request = AccessRequest.objects.select_for_update().get(pk=request.pk)
    if not by.roles.is_itsa:
        audit_refusal(actor=by, action="access_request.return", target=request)
        raise NotAllowed("Only ITSA administrators can return requests.")
    if request.status == AccessRequest.Status.RETURNED:
        return request
    if not request.is_with_itsa:
        raise RuleViolation(f"This request is {request.get_status_display().lower()} and cannot be returned.")
    request.return_reason = clean_text(reason, field="reason", label="reason")
    request.status = AccessRequest.Status.RETURNED
    request.processed_by = by
    request.processed_at = timezone.now()
    request.save(update_fields=["status", "return_reason", "processed_by", "processed_at"])
    audit_record(actor=by, action="access_request.return", target=request)
    email_send("request-closed", to=[request.requested_by.email], context={"r": request})
    return request


# --- Supporting documents -----------------------------------------------------------------------

@dataclass
class _CheckedUpload:
    upload: object
    name: str
    content_type: str
    size: int
    sha256: str


def _size(count: int) -> str:
    return f"{count / 1048576:.1f} MB" if count >= 1048576 else f"{max(1, round(count / 1024))} KB"


def _check_upload(upload) -> _CheckedUpload:
    """Refuse before anything is written: too big, a type we do not keep, a name that does not say
    the type or that escapes, or a PDF that acts by itself."""
    raw_name = getattr(upload, "name", "") or ""
    # Stored names are generated, but a name that tries to leave the folder is refused outright.
    if "/" in raw_name or "\\" in raw_name or raw_name.startswith(".") or "\x00" in raw_name:
        raise RuleViolation("That file name is not allowed. Rename the file and upload it again.", field="documents")
    name = "".join(ch for ch in unicodedata.normalize("NFC", raw_name) if unicodedata.category(ch)[0] != "C")
    name = os.path.basename(name).strip()[:200] or "document"
    size = upload.size
    limit = settings.SUPPORTING_DOCUMENT_MAX_BYTES
    if size > limit:
        raise RuleViolation(
            f"“{name}” is {_size(size)}; the limit is {_size(limit)}. Upload a smaller scan.",
            field="documents",
        )
    if size == 0:
        raise RuleViolation(f"“{name}” is empty.", field="documents")
    upload.seek(0)
    head = upload.read(8192)
    kind = filetype.guess(head)
    content_type = kind.mime if kind else ""
    if content_type not in DOCUMENT_TYPES:
        raise RuleViolation(
            f"“{name}” is not a PDF, PNG or JPEG file. Scan or save the document in one of those formats.",
            field="documents",
        )
    # The name travels with the file (to ITSA, to a download folder): it must not pass a PDF off as a program.
    label, extensions = DOCUMENT_TYPES[content_type]
    if os.path.splitext(name)[1].lower() not in extensions:
        allowed = ", ".join(f"{known} ({', '.join(endings)})" for known, endings in DOCUMENT_TYPES.values())
        raise RuleViolation(
            f"“{name}” is a {label} file, but its name does not end in {' or '.join(extensions)}. "
            f"The portal keeps {allowed} files, named for their type: rename the file and upload it again.",
            field="documents",
        )
    if content_type == "application/pdf":
        problem = _pdf_problem(upload)
        if problem:
            raise RuleViolation(f"“{name}” {problem}", field="documents")
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in iter(lambda: upload.read(65536), b""):
        digest.update(chunk)
    upload.seek(0)
    return _CheckedUpload(upload=upload, name=name, content_type=content_type, size=size, sha256=digest.hexdigest())


# What makes a PDF act by itself or carry other files: scripts, triggers (on opening a page, on a
# field: /AA), embedded files, media and XFA forms...
_PDF_ACTIVE_KEYS = frozenset({"/JavaScript", "/JS", "/AA", "/EmbeddedFiles", "/EF", "/RichMediaContent", "/XFA"})
# ...and the action, annotation and object types that run code, open or send to elsewhere, or play media.
# An /OpenAction that only goes to a page is not among them: office suites write one into ordinary PDFs.
_PDF_ACTIVE_TYPES = frozenset({
    "/JavaScript", "/Launch", "/ImportData", "/SubmitForm", "/GoToR", "/GoToE", "/RichMediaExecute", "/Rendition",
    "/Movie", "/Sound", "/EmbeddedFile", "/FileAttachment", "/RichMedia", "/Screen", "/3D",
})


def _pdf_problem(upload) -> str | None:
    """Why the PDF cannot be kept, or None. Every object reachable from the trailer is looked at,
    since an action can hide at any depth (a page's annotation, a link's next action, a name tree)."""
    try:
        reader = PdfReader(upload)
        if reader.is_encrypted and not reader.decrypt(""):
            return "is protected by a password. Upload a copy without a password."
        seen = set()
        pending = [reader.trailer]
        while pending:
            item = pending.pop()
            if isinstance(item, IndirectObject):
                if (item.idnum, item.generation) in seen:
                    continue
                seen.add((item.idnum, item.generation))
                item = item.get_object()
            if isinstance(item, DictionaryObject):
                kinds = (item[key] for key in ("/S", "/Subtype", "/Type") if key in item)
                if _PDF_ACTIVE_KEYS.intersection(item) or any(
                    isinstance(kind, str) and kind in _PDF_ACTIVE_TYPES for kind in kinds
                ):
                    return ("has active content: scripts, actions that run when it is opened, media, or files "
                            "embedded in it. Print it to a new PDF, or scan the paper copy, and upload that.")
                pending.extend(item.values())
            elif isinstance(item, ArrayObject):
                pending.extend(item)
    # pypdf raises errors of many kinds on a damaged or hostile file; any of them means it cannot be vouched for.
    except Exception:
        return "cannot be read as a PDF: it may be damaged. Save or scan it again as a PDF and upload that."
    return None


def _store_document(*, request: AccessRequest, checked: _CheckedUpload, by: User) -> SupportingDocument:
    document = SupportingDocument(
        request=request, original_name=checked.name, content_type=checked.content_type, size=checked.size,
        sha256=checked.sha256, uploaded_by=by,
    )
    document.file.save("upload", checked.upload, save=False)
    document.save()
    return document


def may_attach(*, request: AccessRequest, user: User) -> bool:
    return request.is_open and (
        user.pk == request.department.head_id
        or is_authorized_requester(person=user, department=request.department)
    )


@service_transaction
def document_attach(*, request: AccessRequest, upload, by: User) -> SupportingDocument:
    request = AccessRequest.objects.select_for_update().get(pk=request.pk)
    if not may_attach(request=request, user=by):
        audit_refusal(actor=by, action="document.attach", target=request)
        raise NotAllowed("Documents can be added only by the department's requesters while the request is open.")
    checked = _check_upload(upload)
    # The same file sent twice (a double submit) is kept once.
    existing = request.documents.filter(sha256=checked.sha256).first()
    if existing is not None:
        return existing
    document = _store_document(request=request, checked=checked, by=by)
    audit_record(actor=by, action="document.attach", target=request, detail=checked.name)
    return document


# --- Status changes (3.5) -----------------------------------------------------------------------

@service_transaction
def status_change_report(
    *, person: User, kind: str, effective_date: date, note: str, by: User
) -> StatusChange:
    """The head tells ITSA a person left, transferred, went on leave or returned from it: every live
    grant of the person is queued for ITSA to remove (left, transferred) or suspend (leave); a return
    from leave queues the reinstatement of the grants the leave suspended (leave_suspended_grants)."""
    person = lock_person(person)
    department = Department.objects.filter(pk=person.department_id).first()
    if department is None or department.head_id != by.pk:
        audit_refusal(actor=by, action="status_change.report", target=person)
        raise NotAllowed("Only the head of the person's department can report a status change.")
    if kind not in StatusChange.Kind.values:
        raise RuleViolation("Choose what changed.", field="kind")
    note = clean_text(note, field="note", label="note", required=False)
    return _status_change(person=person, department=department, kind=kind, effective_date=effective_date, note=note,
                          actor=by, head=by, source=f"status change reported by {by}")


@service_transaction
def status_change_from_roster(
    *, person: User, kind: str, effective_date: date, roster_name: str, roster_sha256: str, by: User | None = None,
    new_department: Department | None = None,
) -> StatusChange:
    """The city's HR roster says a person left, went on leave, returned from it or transferred (to
    `new_department`):
    the same change as the head's report, filed in the head's name, acted by the system (`by` None)
    and naming the roster file. The caller (access_requests.roster) has checked the department has a head."""
    person = lock_person(person)
    department = Department.objects.select_related("head").get(pk=person.department_id)
    if department.head is None:
        raise RuleViolation(f"{department} has no head to report the status change of {person}.")
    source = f"HR roster {roster_name} (SHA-256 {roster_sha256})"
    change = _status_change(person=person, department=department, kind=kind, effective_date=effective_date,
                            note=f"From the {source}.", actor=by, head=department.head,
                            source=f"HR roster {roster_name} ({roster_sha256[:12]})"[:100],
                            detail=f"{person}: {kind} from {effective_date:%Y-%m-%d}; {source}")
    if new_department is not None and new_department.pk != person.department_id:
        person.department = new_department
        person._change_reason = f"transferred to {new_department.code}: HR roster {roster_name}"[:100]
        person.save(update_fields=["department"])
    # The head is told, as ITSA is: the change was not theirs to report this time.
    email_send("status-change", to=[department.head.email], context={"change": change})
    return change


def _status_change(
    *, person: User, department: Department, kind: str, effective_date: date, note: str, actor: User | None,
    head: User, source: str, detail: str = "",
) -> StatusChange:
    """The body of a status change (3.5): the report, the new status, the grants queued for ITSA in the
    head's name: every live grant for a leaver or a transfer, every active one for leave, and for a
    return from leave exactly the grants the leave suspended. `actor` is who the audit trail names;
    `source` the history's reason."""
    if kind not in StatusChange.Kind.values:
        raise RuleViolation("Choose what changed.", field="kind")
    status = StatusChange(kind=kind).employment_status
    repeated = StatusChange.objects.filter(person=person, kind=kind, effective_date=effective_date).first()
    if repeated is not None and person.employment_status == status:
        return repeated
    returned = kind == StatusChange.Kind.RETURNED
    if returned and person.employment_status != User.EmploymentStatus.ON_LEAVE:
        raise RuleViolation(f"{person} is not on leave ({person.get_employment_status_display().lower()}), so "
                            "cannot return from it.", field="kind")
    change = StatusChange.objects.create(
        person=person, department=department, kind=kind, effective_date=effective_date, note=note, reported_by=head
    )
    person.employment_status = status
    person._change_reason = source
    person.save(update_fields=["employment_status"])
    action = change.grant_action
    justification = f"{change.get_kind_display()} from {effective_date:%B %-d, %Y}. {note}".strip()
    if returned:
        # A suspension ITSA has not carried out yet has nothing left to do: withdrawn, the grant stays active.
        _withdraw_for_status_change(
            AccessRequest.objects.filter(person=person, action=AccessRequest.Action.SUSPEND,
                                         status_change__kind=StatusChange.Kind.ON_LEAVE,
                                         status__in=AccessRequest.OPEN_STATUSES),
            change=change, actor=actor)
        grants = leave_suspended_grants(person=person)
    else:
        # Away again, or gone: a reinstatement still queued would give access back to nobody at work.
        _withdraw_for_status_change(
            AccessRequest.objects.filter(person=person, action=AccessRequest.Action.REINSTATE,
                                         status__in=AccessRequest.OPEN_STATUSES),
            change=change, actor=actor)
        grants = Grant.objects.filter(person=person, status__in=Grant.LIVE_STATUSES).select_related("system")
    for grant in grants:
        if action == AccessRequest.Action.SUSPEND and grant.status == Grant.Status.SUSPENDED:
            continue
        access_request_queue_for_itsa(grant=grant, action=action, role=grant.role, by=head,
                                      justification=justification, status_change=change)
    audit_record(actor=actor, action="status_change.report", target=change, detail=detail)
    email_send("status-change", to=emails_of(ITSA_GROUP), context={"change": change})
    return change


def leave_suspended_grants(*, person: User) -> list[Grant]:
    """The grants of `person` suspended because of a leave, and suspended ever since: ITSA carried out
    a suspension filed by one of their ON_LEAVE status changes, it found the grant active (so that
    suspension is what suspended it), and the grant has not been active since. A grant suspended for
    another reason (the nightly check, an incident, a validation left unanswered) is not among them."""
    suspensions = (
        AccessRequest.objects.filter(
            person=person, action=AccessRequest.Action.SUSPEND, status=AccessRequest.Status.COMPLETED,
            status_change__person=person, status_change__kind=StatusChange.Kind.ON_LEAVE,
            grant__status=Grant.Status.SUSPENDED,
        )
        # Empty for a suspension carried out before the status before was kept: taken as the leave's.
        .exclude(grant_status_before=Grant.Status.SUSPENDED)
        .select_related("grant__system").order_by("processed_at", "pk")
    )
    grants = {}
    for suspension in suspensions:
        grant = suspension.grant
        if grant.history.filter(history_date__gt=suspension.processed_at, status=Grant.Status.ACTIVE).exists():
            continue  # active again after the leave, so suspended since for another reason
        grants[grant.pk] = grant
    return list(grants.values())


def _withdraw_for_status_change(requests: QuerySet[AccessRequest], *, change: StatusChange,
                                actor: User | None) -> None:
    """Withdraw the open requests a status change makes pointless, in the head's name, saying why."""
    for request in requests.select_for_update(of=("self",)).order_by("pk"):
        request.status = AccessRequest.Status.WITHDRAWN
        request._change_reason = f"withdrawn: {change.get_kind_display().lower()}"[:100]
        request.save(update_fields=["status"])
        audit_record(actor=actor, action="access_request.withdraw", target=request,
                     detail=f"{change}: no longer needed")


def access_request_queue_for_itsa(
    *, grant: Grant, action: str, role: str, by: User, justification: str, status_change: StatusChange | None = None
) -> AccessRequest:
    """Work on an existing grant that goes straight to ITSA: the head already decided it, in a
    status-change report or a validation. The caller holds a transaction and has checked who acts.
    Returns the request already in flight for the same work, if there is one."""
    in_flight = AccessRequest.objects.filter(grant=grant, action=action, role=role,
                                             status__in=AccessRequest.OPEN_STATUSES).first()
    if in_flight is not None:
        return in_flight
    if action == AccessRequest.Action.CHANGE:
        problem = third_party_access_problem(person=grant.person, under_agreement=grant_is_under_agreement(grant),
                                             role=role)
        if problem:
            raise RuleViolation(problem, field="new_role")
        conflict = sod_conflict(person=grant.person, system=grant.system, roles=[role], ignore_grant_ids=[grant.pk],
                                also_arriving=_arriving_roles(person=grant.person, system=grant.system))
        if conflict:
            audit_refusal(actor=by, action="access_request.queue_for_itsa", target=grant, outcome="refused",
                          detail=conflict)
            sod_finding_record(person=grant.person, system=grant.system, stage=SodFinding.Stage.REVIEW,
                               detail=conflict)
            raise RuleViolation(conflict, field="new_role")
    now = timezone.now()
    # A change keeps the grant's uses, so it keeps the statement of how their conditions are met (T1c).
    statement = (
        Grant.objects.filter(pk=grant.pk).annotate(statement=AccessRequest.grant_statement(OuterRef("pk")))
        .values_list("statement", flat=True).first()
        if action == AccessRequest.Action.CHANGE else ""
    ) or ""
    request = AccessRequest(
        department=grant.department, person=grant.person, system=grant.system, action=action, role=role, grant=grant,
        status_change=status_change, justification=justification, requested_by=by, submitted_at=now,
        status=AccessRequest.Status.WITH_ITSA, approved_by=by, approved_at=now, condition_statement=statement,
    )
    uses = list(grant.permissible_uses.all())
    _save_written(request, uses)
    request.permissible_uses.set(uses)
    # In writing like every other request (S3.4g), with the status change or validation behind it.
    _keep_written_pdf(request, uses)
    audit_record(actor=by, action="access_request.queue_for_itsa", target=request)
    return request
