"""External system connections (Section 3.6): every rule and change of state, and the daily service.

An external system reaches the city's surveillance systems only with the approval of the Mayor's
designee (S3.6a), only over a secure web service or API or a secure network connection (S3.6b), and
only for business reasons tied to the permissible uses of Table 1 (S3.6c). An approved connection
ends at 00:00, city time, on its `ends_on`; thirty days before, the department head and the
designees are told to renew it, and a renewal is a new request that `renews` it.

Every function follows access_requests.services: lock, check who acts, return early when already
done, check the rule, write (history records it) and audit, and send mail only after commit.
"""

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from access_requests.services import authorized_uses, department_is_authorized
from accounts.models import DESIGNEE_GROUP, ITSA_GROUP, Department, SurveillanceSystem, User
from accounts.selectors import emails_of
from portal.audit import audit_record, audit_refusal, lock_audit_chain, service_transaction
from portal.decisions import decision_open, decision_record
from portal.emails import email_send
from portal.errors import NotAllowed, RuleViolation
from portal.models import PermissibleUse
from portal.text import clean_text

from .models import ExternalConnection

# An approved connection lasts at most this many days, (ends_on - starts_on).days, then is renewed.
MAX_DAYS = 365
# The renewal notice goes out this many days before the end date.
RENEWAL_NOTICE_DAYS = 30
NAME_LIMIT = 150
EMAIL_LIMIT = 254

Status = ExternalConnection.Status
# A connection already renewed (or being renewed) by one of these is not renewed a second time.
RENEWAL_STATUSES = (Status.PENDING, Status.APPROVED)


def _day(value: date) -> str:
    return f"{value:%B} {value.day}, {value.year}"


def _check_scope(*, department: Department, systems: list[SurveillanceSystem],
                 uses: list[PermissibleUse]) -> None:
    """The department holds department access to every system, and every use named is among its
    authorized uses on each of them: the connection reaches all the systems for all the uses."""
    if not systems:
        raise RuleViolation("Choose at least one city system the external system would connect to.", field="systems")
    for system in systems:
        if not department_is_authorized(department=department, system=system):
            raise RuleViolation(
                f"{department} is not authorized to use {system}. Ask the Mayor's designee for department access "
                "first (Section 3.4).", field="systems",
            )
    if not uses:
        raise RuleViolation("Name at least one permissible use from Table 1 that the connection serves (Section 3.6).",
                            field="permissible_uses")
    for system in systems:
        allowed = set(authorized_uses(department=department, system=system).values_list("pk", flat=True))
        outside = [use for use in uses if use.pk not in allowed]
        if outside:
            raise RuleViolation(
                f"{department}'s access to {system} does not cover: {'; '.join(str(u) for u in outside)}.",
                field="permissible_uses",
            )


def _renewal_problem(renews: ExternalConnection, *, department: Department | None = None) -> str | None:
    """Why `renews` cannot be renewed now, or None."""
    if department is not None and renews.department_id != department.pk:
        return f"Only a connection of {department} can be renewed by {department}."
    if renews.status != Status.APPROVED:
        return f"Only an approved connection can be renewed; this one is {renews.get_status_display().lower()}."
    existing = renews.renewals.filter(status__in=RENEWAL_STATUSES).first()
    if existing is not None:
        return f"This connection already has a renewal {existing.get_status_display().lower()}."
    return None


def may_request(*, department: Department, user: User) -> bool:
    """The department head asks to connect an external system for their own department."""
    return department.head_id == user.pk


def may_renew(*, connection: ExternalConnection, user: User) -> bool:
    """The department head may ask to renew an approved connection that has no renewal yet."""
    return may_request(department=connection.department, user=user) and _renewal_problem(connection) is None


@service_transaction
def external_connection_request(
    *,
    department: Department,
    name: str,
    owner: str,
    systems,
    permissible_uses,
    business_reasons: str,
    method: str,
    starts_on: date,
    ends_on: date,
    by: User,
    owner_contact: str = "",
    connection_detail: str = "",
    renews: ExternalConnection | None = None,
    today: date | None = None,
) -> ExternalConnection:
    """The department head asks the Mayor's designee to connect an external system (S3.6a), over a
    secure method (S3.6b), for business reasons tied to permissible uses (S3.6c)."""
    today = today or timezone.localdate()
    # The department's row lock makes two submissions of one form run one after the other, so the
    # second finds the first and returns it.
    department = Department.objects.select_for_update().get(pk=department.pk)
    if not may_request(department=department, user=by):
        audit_refusal(actor=by, action="external_connection.request", target=department)
        raise NotAllowed(f"Only the head of {department} can ask to connect an external system for it.")
    name = clean_text(name, field="name", label="name of the external system", limit=NAME_LIMIT)
    owner = clean_text(owner, field="owner", label="owner of the external system", limit=NAME_LIMIT)
    owner_contact = clean_text(owner_contact, field="owner_contact", label="owner's contact", required=False,
                          limit=EMAIL_LIMIT)
    if owner_contact:
        try:
            validate_email(owner_contact)
        except ValidationError:
            raise RuleViolation("Write the owner's contact as an e-mail address, or leave it empty.",
                                field="owner_contact") from None
    if method not in ExternalConnection.Method.values:
        raise RuleViolation(
            "An external system connects only over a secure web service or API, or a secure network connection "
            "(Section 3.6). Choose one of them.", field="method",
        )
    connection_detail = clean_text(connection_detail, field="connection_detail", label="connection details",
                              required=False)
    business_reasons = clean_text(business_reasons, field="business_reasons",
                             label="business reasons, tied to the permissible uses you name")
    systems, uses = list(systems), list(permissible_uses)
    _check_scope(department=department, systems=systems, uses=uses)

    if renews is not None:
        renews = ExternalConnection.objects.select_for_update().get(pk=renews.pk)
        problem = _renewal_problem(renews, department=department)
        if problem:
            raise RuleViolation(problem, field="renews")
        if starts_on != renews.ends_on:
            raise RuleViolation(
                f"A renewal starts when the connection it renews ends: on {_day(renews.ends_on)}.", field="starts_on"
            )
    if starts_on < today:
        raise RuleViolation(f"The connection cannot start in the past: choose {_day(today)} or later.",
                            field="starts_on")
    if ends_on <= starts_on:
        raise RuleViolation("The end date must come after the start date.", field="ends_on")
    if (ends_on - starts_on).days > MAX_DAYS:
        raise RuleViolation(
            f"A connection is approved for at most {MAX_DAYS} days: end it on {_day(starts_on + timedelta(MAX_DAYS))} "
            "or earlier, and renew it then.", field="ends_on",
        )

    repeated = ExternalConnection.objects.filter(
        department=department, requested_by=by, status=Status.PENDING, name=name, owner=owner, method=method,
        starts_on=starts_on, ends_on=ends_on, renews=renews,
    ).first()
    if repeated is not None:
        return repeated
    connection = ExternalConnection.objects.create(
        name=name, owner=owner, owner_contact=owner_contact, department=department, business_reasons=business_reasons,
        method=method, connection_detail=connection_detail, starts_on=starts_on, ends_on=ends_on, renews=renews,
        requested_by=by,
    )
    connection.systems.set(systems)
    connection.permissible_uses.set(uses)
    audit_record(actor=by, action="external_connection.request", target=connection,
                 detail=f"renews {renews.pk}" if renews else "")
    email_send("external-requested", to=emails_of(DESIGNEE_GROUP), context={"c": connection})
    return connection


def may_decide(*, connection: ExternalConnection, user: User) -> bool:
    """The Mayor's designee decides a pending request (S3.6a), never one they asked for."""
    return connection.status == Status.PENDING and user.roles.is_designee and not connection.is_asked_by(user)


@service_transaction
def external_connection_decide(*, connection: ExternalConnection, approve: bool, reason: str, by: User,
                               today: date | None = None) -> ExternalConnection:
    """The Mayor's designee approves or denies, with a reason (S3.6a). Approving a renewal leaves the
    connection it renews running to its own end date."""
    today = today or timezone.localdate()
    connection = ExternalConnection.objects.select_for_update().select_related("department").get(pk=connection.pk)
    target = Status.APPROVED if approve else Status.DENIED
    reason = decision_open(
        connection, by=by, reason=reason, outcomes=(target,), pending=Status.PENDING, what="request",
        action="external_connection.decide", may_decide=by.roles.is_designee,
        not_allowed="Only the Mayor's designee can approve or deny an external system connection (Section 3.6).",
        asked="You asked for this connection, so another designee must decide it.",
    )
    if reason is None:
        return connection
    if approve:
        if connection.ends_on <= today:
            raise RuleViolation(f"This connection would have ended on {_day(connection.ends_on)}. "
                                "The department must ask again with new dates.")
        # Department access may have changed since the request: approve only what still holds.
        _check_scope(department=connection.department, systems=list(connection.systems.all()),
                     uses=list(connection.permissible_uses.select_related("intended_use")))
    decision_record(connection, status=target, reason=reason, by=by, action=f"external_connection.{target}")
    email_send("external-decided", to=[connection.requested_by.email, _head_email(connection)],
               context={"c": connection})
    return connection


def _head_email(connection: ExternalConnection) -> str:
    head = connection.department.head
    return head.email if head else ""


def may_withdraw(*, connection: ExternalConnection, user: User) -> bool:
    """The person who asked, or the department head, may take back a pending request."""
    return connection.status == Status.PENDING and user.pk in (connection.requested_by_id,
                                                               connection.department.head_id)


@service_transaction
def external_connection_withdraw(*, connection: ExternalConnection, by: User) -> ExternalConnection:
    connection = ExternalConnection.objects.select_for_update().select_related("department").get(pk=connection.pk)
    if by.pk not in (connection.requested_by_id, connection.department.head_id):
        audit_refusal(actor=by, action="external_connection.withdraw", target=connection)
        raise NotAllowed("Only the person who asked or the department head can withdraw this request.")
    if connection.status == Status.WITHDRAWN:
        return connection
    if connection.status != Status.PENDING:
        raise RuleViolation(f"This request is {connection.get_status_display().lower()} and cannot be withdrawn.")
    connection.status = Status.WITHDRAWN
    connection.save()
    audit_record(actor=by, action="external_connection.withdraw", target=connection)
    return connection


# --- The daily service ----------------------------------------------------------------------------

def external_connections_daily(*, today: date | None = None) -> dict[str, int]:
    """End the approved connections whose end date has come (00:00, city time, on `ends_on`) and
    tell ITSA to close them; send each approved connection's renewal notice once, from thirty days
    before its end date, unless a renewal is already pending or approved. A second run changes nothing."""
    today = today or timezone.localdate()
    ended = sum(_expire(pk=pk, today=today) for pk in ExternalConnection.objects.filter(
        status=Status.APPROVED, ends_on__lte=today).order_by("ends_on", "pk").values_list("pk", flat=True))
    due = (
        ExternalConnection.objects.filter(
            status=Status.APPROVED, renewal_notice_sent_at__isnull=True, ends_on__gt=today,
            ends_on__lte=today + timedelta(RENEWAL_NOTICE_DAYS),
        )
        .exclude(renewals__status__in=RENEWAL_STATUSES)
        .order_by("ends_on", "pk").values_list("pk", flat=True)
    )
    noticed = sum(_renewal_notice(pk=pk, today=today) for pk in list(due))
    return {"expired": ended, "renewal_notices": noticed}


def _expire(*, pk: int, today: date) -> bool:
    with transaction.atomic():
        lock_audit_chain()
        connection = ExternalConnection.objects.select_for_update().select_related("department").get(pk=pk)
        if connection.status != Status.APPROVED or connection.ends_on > today:
            return False
        connection.status = Status.EXPIRED
        connection._change_reason = f"Ended at 00:00 on {_day(connection.ends_on)}"
        connection.save()
        audit_record(actor=None, action="external_connection.expire", target=connection,
                     detail=f"ended {connection.ends_on.isoformat()}")
        # With an approved renewal, ITSA keeps the connection open on the renewal's terms.
        renewal = connection.renewals.filter(status=Status.APPROVED).first()
        email_send("external-ended", to=emails_of(ITSA_GROUP), context={"c": connection, "renewal": renewal})
    return True


def _renewal_notice(*, pk: int, today: date) -> bool:
    with transaction.atomic():
        lock_audit_chain()
        connection = ExternalConnection.objects.select_for_update().select_related("department").get(pk=pk)
        if connection.status != Status.APPROVED or connection.renewal_notice_sent_at is not None:
            return False
        # The notice's time is not part of the connection's history (the field is excluded from it):
        # a save would add an empty entry to the timeline.
        ExternalConnection.objects.filter(pk=pk).update(renewal_notice_sent_at=timezone.now())
        audit_record(actor=None, action="external_connection.renewal_notice", target=connection,
                     detail=f"ends {connection.ends_on.isoformat()}")
        email_send("external-renewal-due", to=[_head_email(connection), *emails_of(DESIGNEE_GROUP)],
                   context={"c": connection, "days_left": (connection.ends_on - today).days})
    return True


# --- The demo -------------------------------------------------------------------------------------

DEMO_NAME = "Regional Transit Authority station cameras"


def seed_demo_external(*, department: Department, systems, permissible_uses, designee: User,
                       today: date | None = None) -> ExternalConnection:
    """One approved connection for the demo: the regional transit authority's camera system over a
    secure API, asked by the department's head and approved by the designee for a year. Safe to run
    twice: the second run returns the connection made by the first."""
    existing = ExternalConnection.objects.filter(department=department, name=DEMO_NAME).first()
    if existing is not None:
        return existing
    today = today or timezone.localdate()
    connection = external_connection_request(
        department=department, name=DEMO_NAME, owner="Regional Transit Authority",
        owner_contact="security@transit.example", systems=systems, permissible_uses=permissible_uses,
        business_reasons="Detect and investigate crimes at transit stations next to city streets, with the "
                         "transit police, from the city's video management system.",
        method=ExternalConnection.Method.SECURE_API,
        connection_detail="A REST API over TLS 1.3 with mutual certificate authentication; read-only video "
                          "requests, logged on both sides.",
        starts_on=today, ends_on=today + timedelta(MAX_DAYS), by=department.head, today=today,
    )
    return external_connection_decide(connection=connection, approve=True, by=designee, today=today,
                                      reason="Tied to crime detection at transit stations; secure API.")
