"""The city's HR roster, applied once a day: leavers, leave, returns from leave and transfers become
status changes (3.5).

The roster is a CSV file (the README gives its format). The whole file is checked before anything
changes: one problem anywhere and nothing changes, ITSA is mailed the reasons and the refusal is in
the audit trail. A file cut off, a department unknown, or a run that would take more than
HR_ROSTER_MAX_LEAVERS_SHARE of the active people away at once is refused.

People are matched by employee id. A row whose employee id is unknown but whose e-mail is that of a
person with no employee id adopts that person. A person missing from the roster is left alone: only
an explicit status of `left` or `on_leave` counts; `active` for a person on leave is their return.
New people are created without a password, a role or any access, at once whatever their date.

A status change dated after the day of the run waits ("pending"): the first run on or after its date
applies it, the next day's file or the same file run again. A file applied is remembered by its
SHA-256 with the day of its run and its earliest pending date: the same file again changes nothing
unless pending rows have come due, and then applies those rows only.
"""

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.timezone import localdate

from accounts.models import ITSA_GROUP, Department, User
from accounts.selectors import emails_of
from portal.audit import audit_record, service_transaction
from portal.emails import email_send
from portal.errors import RuleViolation

from .models import RosterRun, StatusChange
from .services import status_change_from_roster

HEADER = ["employee_id", "full_name", "email", "department", "status", "effective_date"]
ACTIVE, ON_LEAVE, LEFT = "active", "on_leave", "left"
STATUSES = (ACTIVE, ON_LEAVE, LEFT)
# People who are not at work; everyone else (active, transferred) counts as working.
AWAY = (User.EmploymentStatus.ON_LEAVE, User.EmploymentStatus.LEFT)


class RosterRefused(RuleViolation):
    """The roster was not applied: `problems` says why, one line each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("The HR roster was not applied: " + "; ".join(problems))


@dataclass(frozen=True)
class Row:
    line: int
    employee_id: str
    full_name: str
    email: str
    department: Department
    status: str
    effective_date: date


@dataclass
class RosterResult:
    file_name: str
    sha256: str
    already_applied: bool = False
    counts: dict = field(default_factory=dict)
    pending_from: date | None = None  # the earliest effective date still waiting


@dataclass
class _Plan:
    adoptions: list = field(default_factory=list)  # (person, row)
    joiners: list = field(default_factory=list)  # row
    changes: list = field(default_factory=list)  # (person, kind, row)
    pending: list = field(default_factory=list)  # (person, kind, row): dated after the day of the run
    placements: list = field(default_factory=list)  # (person, row): a person with no department gets one
    problems: list = field(default_factory=list)


def roster_apply(*, path: Path) -> RosterResult:
    """Check the roster at `path` whole, then apply what is due in one transaction. Raises RosterRefused
    (after mailing ITSA) when anything is wrong; returns the counts, or `already_applied` for a file
    seen before with nothing come due since."""
    path = Path(path)
    name = path.name
    try:
        content = path.read_bytes()
    except OSError as error:
        _refuse(name, "", [f"{name}: the file cannot be read ({error.strerror or error})."])
    sha256 = hashlib.sha256(content).hexdigest()
    today = localdate()
    run = RosterRun.objects.filter(sha256=sha256).first()
    if run is not None and not _has_come_due(run, today):
        return _already_applied(run, name)
    rows, problems = _parse(name, content)
    if run is not None:
        # Rows dated up to the last run's day were applied then (or were nothing to do): only those
        # that waited are looked at again, so nothing else the file says is done twice.
        rows = [row for row in rows if run.applied_through is None or row.effective_date > run.applied_through]
    plan = _plan(name, rows, today=today) if not problems else _Plan(problems=problems)
    if plan.problems:
        _refuse(name, sha256, plan.problems)
    return _apply(name=name, sha256=sha256, plan=plan, today=today, seen=run is not None)


def _has_come_due(run: RosterRun, today: date) -> bool:
    return run.pending_from is not None and run.pending_from <= today


def _already_applied(run: RosterRun, name: str) -> RosterResult:
    return RosterResult(file_name=name, sha256=run.sha256, already_applied=True,
                        counts={"pending": run.counts.get("pending", 0)}, pending_from=run.pending_from)


def _parse(name: str, content: bytes) -> tuple[list[Row], list[str]]:
    problems = []
    if not content.strip():
        return [], [f"{name}: the file is empty."]
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [f"{name}: the file is not UTF-8 text."]
    if not text.endswith("\n"):
        # Every line, the last one too, ends with a line break: a file without one was cut off.
        problems.append(f"{name}, line {text.count(chr(10)) + 1}: the file ends in the middle of a line; "
                        f"it looks cut off.")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    if [cell.strip() for cell in header] != HEADER:
        return [], [f"{name}, line 1: the header must be exactly {','.join(HEADER)}."]
    departments = {d.code: d for d in Department.objects.all()}
    rows, seen_ids, seen_emails = [], {}, {}
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(HEADER):
            problems.append(f"{name}, line {line}: {len(cells)} fields instead of {len(HEADER)}.")
            continue
        employee_id, full_name, email, code, status, effective = (cell.strip() for cell in cells)
        reasons = []
        if not employee_id or len(employee_id) > 30:
            reasons.append("the employee id is missing or longer than 30 characters")
        elif employee_id in seen_ids:
            reasons.append(f"employee id {employee_id} is also on line {seen_ids[employee_id]}")
        if not full_name:
            reasons.append("the name is missing")
        try:
            validate_email(email)
        except ValidationError:
            reasons.append(f"'{email}' is not an e-mail address")
        if email.lower() in seen_emails:
            reasons.append(f"e-mail {email} is also on line {seen_emails[email.lower()]}")
        department = departments.get(code)
        if department is None:
            reasons.append(f"no department has the code '{code}'")
        if status not in STATUSES:
            reasons.append(f"status '{status}' is not one of {', '.join(STATUSES)}")
        try:
            effective_date = date.fromisoformat(effective)
        except ValueError:
            reasons.append(f"'{effective}' is not a date (YYYY-MM-DD)")
        seen_ids.setdefault(employee_id, line)
        seen_emails.setdefault(email.lower(), line)
        if reasons:
            problems.append(f"{name}, line {line}: {'; '.join(reasons)}.")
            continue
        rows.append(Row(line=line, employee_id=employee_id, full_name=full_name, email=email.lower(),
                        department=department, status=status, effective_date=effective_date))
    if not rows and not problems:
        problems.append(f"{name}: the file has a header and no people.")
    return rows, problems


def _plan(name: str, rows: list[Row], *, today: date) -> _Plan:
    plan = _Plan()
    by_id = {p.employee_id: p for p in User.objects.filter(employee_id__in=[r.employee_id for r in rows])
             .select_related("department")}
    by_email = {p.email.lower(): p for p in User.objects.filter(email__in=[r.email for r in rows])
                .select_related("department")}
    leavers = 0
    for row in rows:
        person = by_id.get(row.employee_id)
        if person is None:
            person = by_email.get(row.email)
            if person is not None and person.employee_id:
                plan.problems.append(f"{name}, line {row.line}: {row.email} is the e-mail of the person with "
                                     f"employee id {person.employee_id}, not {row.employee_id}.")
                continue
            if person is not None:
                plan.adoptions.append((person, row))
            elif row.status == ACTIVE:
                plan.joiners.append(row)
                continue
            else:
                continue  # Never a person of the portal, and not working now: nothing to do.
        kind = _kind(person, row)
        if kind is None:
            if person.department_id is None and row.status == ACTIVE:
                plan.placements.append((person, row))
            continue
        if row.effective_date > today:
            # Its head is asked for on the day it is applied: one may be named by then.
            plan.pending.append((person, kind, row))
            continue
        head = person.department.head_id if person.department_id else None
        if head is None:
            plan.problems.append(f"{name}, line {row.line}: {person.department or 'no department'} has no head "
                                 f"to report the status change of {person} in the name of.")
            continue
        if kind in (StatusChange.Kind.LEFT, StatusChange.Kind.ON_LEAVE) and person.employment_status not in AWAY:
            leavers += 1
        plan.changes.append((person, kind, row))
    active = User.objects.filter(is_active=True).exclude(employment_status__in=AWAY).count()
    share = settings.HR_ROSTER_MAX_LEAVERS_SHARE
    if active and leavers / active > share:
        plan.problems.append(f"{name}: {leavers} of {active} active people would leave or go on leave at once, "
                             f"more than the {share:.0%} allowed (HR_ROSTER_MAX_LEAVERS_SHARE).")
    return plan


def _kind(person: User, row: Row) -> str | None:
    """The status change a row asks for, or None when the person is already as the roster says.
    `active` for a person on leave is their return, unless it names another department: a transfer."""
    status = person.employment_status
    if row.status == LEFT:
        return StatusChange.Kind.LEFT if status != User.EmploymentStatus.LEFT else None
    if row.status == ON_LEAVE:
        return StatusChange.Kind.ON_LEAVE if status not in (User.EmploymentStatus.ON_LEAVE,
                                                             User.EmploymentStatus.LEFT) else None
    if person.department_id is not None and person.department_id != row.department.pk:
        return StatusChange.Kind.TRANSFERRED
    if status == User.EmploymentStatus.ON_LEAVE:
        return StatusChange.Kind.RETURNED
    return None


@service_transaction
def _apply(*, name: str, sha256: str, plan: _Plan, today: date, seen: bool) -> RosterResult:
    """All the roster's changes due, or none."""
    run = RosterRun.objects.select_for_update().filter(sha256=sha256).first()
    if run is not None and (not seen or not _has_come_due(run, today)):
        return _already_applied(run, name)  # another run of the same file got there first
    reason = f"HR roster {name}"[:100]
    source = f"HR roster {name} (SHA-256 {sha256})"
    for person, row in plan.adoptions:
        person.employee_id = row.employee_id
        person._change_reason = reason
        person.save(update_fields=["employee_id"])
        audit_record(actor=None, action="hr_roster.adopt", target=person,
                     detail=f"employee id {row.employee_id} given to {person.email}; {source}")
    for person, row in plan.placements:
        person.department = row.department
        person._change_reason = reason
        person.save(update_fields=["department"])
        audit_record(actor=None, action="hr_roster.place", target=person,
                     detail=f"department {row.department.code}; {source}")
    for row in plan.joiners:
        person = User(email=row.email, full_name=row.full_name, department=row.department,
                      employee_id=row.employee_id)
        person.set_unusable_password()
        person._change_reason = reason
        person.save()
        audit_record(actor=None, action="hr_roster.join", target=person,
                     detail=f"employee id {row.employee_id}, {row.department.code}; {source}")
    counts = {"adopted": len(plan.adoptions), "joined": len(plan.joiners), "placed": len(plan.placements),
              **{kind: 0 for kind in StatusChange.Kind.values}, "pending": len(plan.pending)}
    for person, kind, row in plan.changes:
        status_change_from_roster(
            person=person, kind=kind, effective_date=row.effective_date, roster_name=name, roster_sha256=sha256,
            by=None, new_department=row.department if kind == StatusChange.Kind.TRANSFERRED else None,
        )
        counts[kind] += 1
    pending_from = min((row.effective_date for _, _, row in plan.pending), default=None)
    if run is None:
        RosterRun.objects.create(file_name=name, sha256=sha256, counts=counts, applied_through=today,
                                 pending_from=pending_from)
    else:
        run.counts, run.applied_through, run.pending_from = counts, today, pending_from
        run.save(update_fields=["counts", "applied_through", "pending_from"])
    waiting = f"; pending from {pending_from:%Y-%m-%d}" if pending_from else ""
    again = "; rows come due in a file applied before" if run is not None else ""
    audit_record(actor=None, action="hr_roster.apply", target=name,
                 detail=f"{_describe(counts)}{waiting}{again}; SHA-256 {sha256}")
    return RosterResult(file_name=name, sha256=sha256, counts=counts, pending_from=pending_from)


def _describe(counts: dict) -> str:
    return ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in counts.items())


def _refuse(name: str, sha256: str, problems: list[str]):
    _record_refusal(name=name, sha256=sha256, problems=problems)
    raise RosterRefused(problems)


@service_transaction
def _record_refusal(*, name: str, sha256: str, problems: list[str]) -> None:
    audit_record(actor=None, action="hr_roster.refused", target=name, outcome="refused",
                 detail=" | ".join(problems) + (f"; SHA-256 {sha256}" if sha256 else ""))
    email_send("hr-roster-refused", to=emails_of(ITSA_GROUP),
               context={"file_name": name, "sha256": sha256, "problems": problems})


def roster_in_drop_folder(folder: str) -> Path:
    """The newest *.csv of the drop folder, never a file outside it (a link out of it is refused).
    No roster at all is refused too: a missing roster is a problem for ITSA."""
    root = Path(folder).resolve()
    candidates = [p for p in root.glob("*.csv") if p.is_file()] if root.is_dir() else []
    if not candidates:
        _refuse(root.name or str(root), "", ["no roster (*.csv) in the roster drop folder."])
    newest = max(candidates, key=lambda p: (p.stat().st_mtime, p.name))
    resolved = newest.resolve()
    if resolved.parent != root:
        _refuse(newest.name, "", [f"{newest.name}: the file is outside the roster drop folder."])
    return resolved
