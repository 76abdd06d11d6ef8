"""Accounts that should not exist: the nightly check of live grants, the one home of its rules.

A live grant (active or suspended) is a finding of one or more kinds:
- unused: not used on its system for GRANT_HYGIENE_UNUSED_DAYS days or more; an account never used
  counts from the day it was provisioned;
- person gone: its holder is deactivated, or has left the city;
- no request: no approved access request is behind it (it was created by hand or imported).

`grant_hygiene_run` records each finding in the audit trail and mails ITSA the report. With
GRANT_HYGIENE_SUSPEND on, it also suspends each active grant found, once, and files the ITSA work to
suspend the account on the system, as a validation left without an answer does.

The systems tell when an account was last used: `accounts.last_use.grant_use_record` keeps the
latest date.

A grant's right to exist is the access request behind it, and ITSA's work is an access request: so
the check lives with the requests, above the grants it reads.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, TextChoices
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import ITSA_GROUP, Grant, User
from accounts.services import lock_person
from portal.audit import audit_record, audit_refusal, service_transaction
from portal.emails import email_send
from portal.errors import NotAllowed
from security.services import grant_suspend

from .models import AccessRequest
from .services import access_request_queue_for_itsa

NO_REQUEST_REASON = (
    "No approved access request is on file for this grant: it was made outside the requests, by hand or by an import."
)

# Who the grant's history names when the nightly run, acting for nobody, suspends a grant.
NIGHTLY_CHECK = "the nightly grant check"


class Kind(TextChoices):
    UNUSED = "unused", "Unused"
    PERSON_GONE = "person_gone", "Person deactivated or gone"
    NO_REQUEST = "no_request", "No approved request"


@dataclass(frozen=True)
class Finding:
    grant: Grant
    kind: str
    reason: str

    @property
    def kind_label(self) -> str:
        return Kind(self.kind).label


def _start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _approved_requests():
    """Requests that put the grant in its current form: an add or a change, approved and provisioned."""
    return AccessRequest.objects.filter(
        grant=OuterRef("pk"), status=AccessRequest.Status.COMPLETED,
        action__in=[AccessRequest.Action.ADD, AccessRequest.Action.CHANGE],
    )


def find_accounts_that_should_not_exist(*, today: date | None = None) -> list[Finding]:
    """Every finding on the live grants, by system, person and role. One query, whatever the count."""
    today = today or timezone.localdate()
    days = settings.GRANT_HYGIENE_UNUSED_DAYS
    # Last active on a local date on or before today - days, that is before this instant.
    unused_before = _start_of_day(today - timedelta(days=days - 1))
    left = User.EmploymentStatus.LEFT
    grants = (
        Grant.objects.filter(status__in=Grant.LIVE_STATUSES)
        .annotate(last_active=Coalesce("last_used_at", "provisioned_at"),
                  has_approved_request=Exists(_approved_requests()))
        .filter(
            Q(last_active__lt=unused_before) | Q(person__is_active=False) | Q(person__employment_status=left)
            | Q(has_approved_request=False)
        )
        .select_related("person", "system", "department")
        .order_by("system__name", "person__full_name", "role", "pk")
    )
    findings = []
    for grant in grants:
        idle = (today - timezone.localdate(grant.last_active)).days
        if idle >= days:
            findings.append(Finding(grant, Kind.UNUSED, _unused_reason(grant, idle=idle, days=days)))
        person = grant.person
        if not person.is_active or person.employment_status == left:
            findings.append(Finding(grant, Kind.PERSON_GONE, _person_gone_reason(person)))
        if not grant.has_approved_request:
            findings.append(Finding(grant, Kind.NO_REQUEST, NO_REQUEST_REASON))
    return findings


def _unused_reason(grant: Grant, *, idle: int, days: int) -> str:
    since = f"{timezone.localdate(grant.last_active):%B %-d, %Y}"
    if grant.last_used_at is None:
        return f"Never used on {grant.system} since it was provisioned on {since} ({idle} days; the limit is {days})."
    return f"Not used on {grant.system} since {since} ({idle} days; the limit is {days})."


def _person_gone_reason(person: User) -> str:
    gone = []
    if not person.is_active:
        gone.append("is deactivated in the portal")
    if person.employment_status == User.EmploymentStatus.LEFT:
        gone.append("has left the city")
    return f"{person} {' and '.join(gone)}."


@dataclass
class GrantRow:
    """One grant of the report, with its findings and what the run did to it."""

    grant: Grant
    findings: list[Finding] = field(default_factory=list)
    note: str = ""

    @property
    def state(self) -> str:
        return self.note or self.grant.get_status_display().lower()


@dataclass
class HygieneRun:
    today: date
    suspend: bool
    findings: list[Finding]
    rows: list[GrantRow]
    suspended: list[Grant]


def group_by_grant(findings: list[Finding]) -> list[GrantRow]:
    rows: dict[int, GrantRow] = {}
    for finding in findings:
        rows.setdefault(finding.grant.pk, GrantRow(finding.grant)).findings.append(finding)
    return list(rows.values())


@service_transaction
def grant_hygiene_run(*, by: User | None = None, suspend: bool | None = None, today: date | None = None) -> HygieneRun:
    """The nightly check: record and report every finding; by setting (or `suspend`), suspend the
    active grants found, each once. `by` is None at night; a person who runs it must be ITSA."""
    if by is not None and not by.roles.is_itsa:
        audit_refusal(actor=by, action="grant.hygiene.run")
        raise NotAllowed("Only ITSA administrators can run the grant check.")
    today = today or timezone.localdate()
    suspend = settings.GRANT_HYGIENE_SUSPEND if suspend is None else suspend
    findings = find_accounts_that_should_not_exist(today=today)
    for finding in findings:
        audit_record(actor=by, action="grant.hygiene.finding", target=finding.grant,
                     detail=f"grant {finding.grant.pk}, {finding.kind}: {finding.reason}")
    rows = group_by_grant(findings)
    suspended = []
    for row in rows:
        grant = row.grant
        if grant.status == Grant.Status.SUSPENDED:
            row.note = "already suspended"
        elif grant.hygiene_suspended_at is not None:
            row.note = (f"active again after this check suspended it on "
                        f"{timezone.localdate(grant.hygiene_suspended_at):%B %-d, %Y}: not suspended again")
        elif suspend and _suspend_once(row, by=by):
            suspended.append(row.grant)
    run = HygieneRun(today=today, suspend=suspend, findings=findings, rows=rows, suspended=suspended)
    audit_record(actor=by, action="grant.hygiene.run", target="grant check", detail=_summary(run))
    if findings:
        itsa = User.objects.filter(groups__name=ITSA_GROUP, is_active=True).values_list("email", flat=True)
        email_send("grant-hygiene-report", to=list(itsa), context={"run": run})
    return run


def _suspend_once(row: GrantRow, *, by: User | None) -> bool:
    grant = row.grant
    lock_person(grant.person)
    # The claim is the guard: a second run, even one at the same moment, finds the grant taken.
    claimed = Grant.objects.filter(
        pk=grant.pk, status=Grant.Status.ACTIVE, hygiene_suspended_at__isnull=True
    ).update(hygiene_suspended_at=timezone.now())
    if not claimed:
        return False
    # Suspending never gives a role, so it cannot break separation of duties (3.2).
    changed = grant_suspend(grant=grant, by=by, reason=NIGHTLY_CHECK)
    grant.status, grant.hygiene_suspended_at = changed.status, changed.hygiene_suspended_at
    reasons = " ".join(finding.reason for finding in row.findings)
    audit_record(actor=by, action="grant.hygiene.suspend", target=grant, detail=f"grant {grant.pk}: {reasons}")
    if _file_itsa_work(grant, reasons=reasons, by=by) is None:
        row.note = ("suspended now; no ITSA request was filed, as the department has no active head: "
                    "suspend the account on the system by hand")
    else:
        row.note = "suspended now"
    return True


def _file_itsa_work(grant: Grant, *, reasons: str, by: User | None) -> AccessRequest | None:
    """Ask ITSA to suspend the account on the system, unless a removal or suspension is on its way.

    Filed in the name of the department head, who keeps ITSA informed (3.5), as a validation left
    without an answer does: the work is never filed by the ITSA administrator who carries it out,
    and any other ITSA administrator but the holder may do it. No active head: the person who ran
    the check; at night, nobody, and the report tells ITSA."""
    on_its_way = AccessRequest.objects.filter(
        grant=grant, status__in=AccessRequest.OPEN_STATUSES,
        action__in=[AccessRequest.Action.REMOVE, AccessRequest.Action.SUSPEND],
    ).first()
    if on_its_way is not None:
        return on_its_way
    head = grant.department.head
    filer = head if head is not None and head.is_active else by
    if filer is None:
        return None
    return access_request_queue_for_itsa(
        grant=grant, action=AccessRequest.Action.SUSPEND, role=grant.role, by=filer,
        justification=f"Suspended by {NIGHTLY_CHECK}: {reasons} Suspend the account on the system.",
    )


def _summary(run: HygieneRun) -> str:
    counts = ", ".join(
        f"{label.lower()} {sum(f.kind == kind for f in run.findings)}" for kind, label in Kind.choices
    )
    mode = f"{len(run.suspended)} suspended" if run.suspend else "report only"
    return f"{len(run.findings)} findings on {len(run.rows)} grants ({counts}); {mode}."
