"""Bringing a city in: its departments, people, systems and the accounts people already hold on them.

`import_plan` reads and checks every file before anything is written, and says for each row what the
import would do with it (create, change, leave unchanged) or why it refuses it, with the file and the
line. `import_apply` writes a plan only if it refuses nothing, all in one transaction; every account it
brings in becomes a live grant "existing at adoption", tied to its import batch, and each department
that got grants is given a validation of them, so its head confirms or removes each one.

Rows are matched by stable keys (a department's and a system's code, a person's employee id, an
account's name on its system), so a second run of the same files finds every row unchanged.
"""

import csv
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError
from django.utils import timezone

from accounts.models import Department, Grant, SurveillanceSystem, User, biometric_retention_problem
from accounts.services import (
    account_name_holder, department_set_head, grant_change, grant_open, third_party_access_problem,
)
from accounts.sod import sod_conflict
from agreements.models import PUBLIC_SAFETY, AgreementGrant, SharingAgreement
from audits.models import Validation, ValidationItem
from audits.services import open_due_validations, user_audit_open
from portal.audit import audit_record, audit_refusal, service_transaction
from portal.errors import NotAllowed, RuleViolation
from portal.models import PermissibleUse

from .models import AdoptedGrant, ImportBatch

CREATE, CHANGE, UNCHANGED, REFUSED = "create", "change", "unchanged", "refused"

# The files, in the order they are read and written, and the columns each must have.
FILES = {
    "departments.csv": ("code", "name", "kind", "head_employee_id"),
    "people.csv": ("employee_id", "email", "full_name", "title", "department_code", "organization"),
    "systems.csv": ("code", "name", "kind", "description", "uses_biometrics", "biometric_retention_days",
                    "is_license_plate_reader", "is_third_party", "has_public_feed", "owner_department_code"),
    "accounts.csv": ("system_code", "employee_id", "account_name", "role", "department_code", "permissible_uses",
                     "ends_on"),
}
SYSTEM_FLAGS = ("uses_biometrics", "is_license_plate_reader", "is_third_party", "has_public_feed")
TRUE, FALSE = {"yes", "true", "1", "y"}, {"no", "false", "0", "n", ""}


@dataclass
class Row:
    """One row's outcome: what the import does with it, or why it refuses it."""

    file: str
    line: int
    outcome: str
    what: str
    reason: str = ""
    data: dict = field(default_factory=dict, repr=False)

    def __str__(self):
        text = f"{self.file}:{self.line}: {self.outcome} {self.what}"
        return f"{text}: {self.reason}" if self.reason else text


@dataclass
class Plan:
    source: str
    files: dict[str, str] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)

    @property
    def refused(self) -> list[Row]:
        return [row for row in self.rows if row.outcome == REFUSED]

    @property
    def writes(self) -> list[Row]:
        return [row for row in self.rows if row.outcome in (CREATE, CHANGE)]

    def totals(self) -> dict[str, int]:
        totals = {CREATE: 0, CHANGE: 0, UNCHANGED: 0, REFUSED: 0}
        for row in self.rows:
            totals[row.outcome] += 1
        return totals

    def counts(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for row in self.writes:
            per_file = counts.setdefault(row.file, {CREATE: 0, CHANGE: 0})
            per_file[row.outcome] += 1
        return counts


Progress = Callable[[int, int], None] | None


Source = Path | str | dict[str, bytes]


def _contents(source: Source) -> tuple[str, dict[str, bytes]]:
    """The files' contents by name, from a directory (the command) or from an upload (ITSA's page)."""
    if isinstance(source, dict):
        return "the upload", {name: source[name] for name in FILES if name in source}
    directory = Path(source)
    return directory.name or str(directory), {
        name: (directory / name).read_bytes() for name in FILES if (directory / name).is_file()}


def _read(contents: dict[str, bytes], name: str, plan: Plan) -> list[tuple[int, dict]]:
    """The file's rows with their line numbers; a missing file or column refuses the whole file."""
    if name not in contents:
        plan.rows.append(Row(name, 0, REFUSED, "file", f"{name} is missing from {plan.source}."))
        return []
    content = contents[name]
    plan.files[name] = hashlib.sha256(content).hexdigest()
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        plan.rows.append(Row(name, 1, REFUSED, "file", "The file is not UTF-8 text."))
        return []
    reader = csv.DictReader(text.splitlines(keepends=True))
    header = [column.strip() for column in (reader.fieldnames or [])]
    missing = [column for column in FILES[name] if column not in header]
    if missing:
        plan.rows.append(Row(name, 1, REFUSED, "header", f"Missing column{'s' if len(missing) > 1 else ''}: "
                                                         f"{', '.join(missing)}."))
        return []
    reader.fieldnames = header
    rows = []
    for raw in reader:
        rows.append((reader.line_num, {key: (value or "").strip() for key, value in raw.items() if key}))
    return rows


def _flag(value: str) -> bool | None:
    value = value.casefold()
    return True if value in TRUE else False if value in FALSE else None


def _date(value: str) -> date | None:
    return date.fromisoformat(value)


def import_plan(source: Source, *, progress: Progress = None) -> Plan:
    """Read and check every file, from a directory or from uploaded contents (file name → bytes);
    write nothing."""
    label, contents = _contents(source)
    plan = Plan(source=label)
    read = {name: _read(contents, name, plan) for name in FILES}
    total, done = sum(len(rows) for rows in read.values()), 0

    def tick():
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    departments = {d.code: d for d in Department.objects.select_related("head")}
    # What the files will make: a department code → its row's data, an employee id → the person's.
    file_departments: dict[str, dict] = {}
    file_people: dict[str, dict] = {}

    # --- departments -------------------------------------------------------------------------
    heads: list[tuple[Row, str]] = []
    for line, data in read["departments.csv"]:
        tick()
        code, name = data["code"], data["name"]
        row = Row("departments.csv", line, CREATE, f"department {code or '?'}", data=data)
        plan.rows.append(row)
        kind = data["kind"] or Department.Kind.DEPARTMENT
        if not code or not name:
            row.outcome, row.reason = REFUSED, "A department needs a code and a name."
        elif code in file_departments:
            row.outcome, row.reason = REFUSED, f"The department {code} is listed twice."
        elif kind not in Department.Kind.values:
            row.outcome, row.reason = REFUSED, (f"Unknown kind “{kind}”: use one of "
                                                f"{', '.join(Department.Kind.values)}.")
        elif Department.objects.filter(name__iexact=name).exclude(code=code).exists():
            row.outcome, row.reason = REFUSED, f"Another department is already named “{name}”."
        if row.outcome == REFUSED:
            continue
        data["kind"] = kind
        file_departments[code] = data
        existing = departments.get(code)
        if existing is not None:
            changed = [label for label, now, then in (("name", existing.name, name), ("kind", existing.kind, kind))
                       if now != then]
            row.outcome = CHANGE if changed else UNCHANGED
            row.reason = f"new {', '.join(changed)}" if changed else ""
        heads.append((row, data["head_employee_id"]))

    def department_known(code: str) -> bool:
        return code in file_departments or code in departments

    # --- people ------------------------------------------------------------------------------
    people_by_id = {p.employee_id: p for p in User.objects.exclude(employee_id="").select_related("department")}
    for line, data in read["people.csv"]:
        tick()
        employee_id, email = data["employee_id"], data["email"].lower()
        data["email"] = email
        row = Row("people.csv", line, CREATE, f"person {employee_id or '?'}", data=data)
        plan.rows.append(row)
        department_code, organization = data["department_code"], data["organization"]
        existing = people_by_id.get(employee_id)
        by_email = User.objects.filter(email__iexact=email).select_related("department").first() if email else None
        try:
            validate_email(email)
            email_ok = True
        except ValidationError:
            email_ok = False
        if not employee_id or not data["full_name"]:
            row.outcome, row.reason = REFUSED, "A person needs an employee id and a full name."
        elif not email_ok:
            row.outcome, row.reason = REFUSED, f"“{data['email']}” is not an e-mail address."
        elif employee_id in file_people:
            earlier = file_people[employee_id]
            if earlier["department_code"] != department_code:
                row.outcome, row.reason = REFUSED, (
                    f"A person in two departments: {employee_id} is already listed in "
                    f"{earlier['department_code'] or 'no department'}, here in {department_code or 'no department'}.")
            else:
                row.outcome, row.reason = REFUSED, f"The person {employee_id} is listed twice."
        elif organization and department_code:
            row.outcome, row.reason = REFUSED, (
                f"{data['full_name']} works for a third party ({organization}): a third party's person belongs to "
                "no city department; leave department_code empty.")
        elif not organization and not department_code:
            row.outcome, row.reason = REFUSED, "City staff need a department_code (or an organization for a third party)."
        elif department_code and not department_known(department_code):
            row.outcome, row.reason = REFUSED, f"Unknown department “{department_code}”."
        elif existing is None and by_email is not None and by_email.employee_id:
            row.outcome, row.reason = REFUSED, (f"{email} belongs to {by_email}, whose employee id is "
                                                f"{by_email.employee_id}, not {employee_id}.")
        if row.outcome == REFUSED:
            continue
        person = existing or by_email
        if person is not None and person.department_id and person.department.code != department_code:
            # The import brings people in; it does not move them: a transfer goes through the HR roster.
            row.outcome, row.reason = REFUSED, (
                f"A person in two departments: {person} is already in {person.department}, not {department_code or 'none'}.")
            continue
        if person is not None and person.email.lower() != email and \
                User.objects.filter(email__iexact=email).exclude(pk=person.pk).exists():
            row.outcome, row.reason = REFUSED, f"{email} already belongs to someone else."
            continue
        file_people[employee_id] = data
        if person is not None:
            changed = [label for label, now, then in (
                ("employee id", person.employee_id, employee_id), ("e-mail", person.email.lower(), email),
                ("name", person.full_name, data["full_name"]), ("title", person.title, data["title"]),
                ("organization", person.organization, organization),
                ("department", person.department.code if person.department_id else "", department_code),
            ) if now != then]
            row.outcome = CHANGE if changed else UNCHANGED
            row.reason = f"new {', '.join(changed)}" if changed else ""
            data["pk"] = person.pk

    def person_known(employee_id: str) -> bool:
        return employee_id in file_people or employee_id in people_by_id

    def person_department(employee_id: str) -> str:
        if employee_id in file_people:
            return file_people[employee_id]["department_code"]
        person = people_by_id[employee_id]
        return person.department.code if person.department_id else ""

    def person_organization(employee_id: str) -> str:
        if employee_id in file_people:
            return file_people[employee_id]["organization"]
        return people_by_id[employee_id].organization

    def existing_person(employee_id: str) -> User | None:
        """The portal's person, matched by employee id or (someone without one yet) by e-mail."""
        if employee_id in people_by_id:
            return people_by_id[employee_id]
        pk = file_people.get(employee_id, {}).get("pk")
        return User.objects.get(pk=pk) if pk else None

    # Department heads, now that the people are known.
    for row, head_id in heads:
        if not head_id:
            continue
        if not person_known(head_id):
            row.outcome, row.reason = REFUSED, f"Unknown head: no person has the employee id {head_id}."
            continue
        if person_organization(head_id):
            row.outcome, row.reason = REFUSED, f"The head {head_id} works for a third party."
            continue
        existing = departments.get(row.data["code"])
        if existing is not None and row.outcome == UNCHANGED and (
                existing.head is None or existing.head.employee_id != head_id):
            row.outcome, row.reason = CHANGE, "new head"

    # --- systems -----------------------------------------------------------------------------
    systems = {s.code: s for s in SurveillanceSystem.objects.select_related("owner")}
    file_systems: dict[str, dict] = {}
    for line, data in read["systems.csv"]:
        tick()
        code, name = data["code"], data["name"]
        row = Row("systems.csv", line, CREATE, f"system {code or '?'}", data=data)
        plan.rows.append(row)
        kind = data["kind"] or SurveillanceSystem.Kind.VMS
        flags = {flag: _flag(data[flag]) for flag in SYSTEM_FLAGS}
        days = data["biometric_retention_days"]
        owner = data["owner_department_code"]
        if not code or not name:
            row.outcome, row.reason = REFUSED, "A system needs a code and a name."
        elif code in file_systems:
            row.outcome, row.reason = REFUSED, f"The system {code} is listed twice."
        elif kind not in SurveillanceSystem.Kind.values:
            row.outcome, row.reason = REFUSED, (f"Unknown kind “{kind}”: use one of "
                                                f"{', '.join(SurveillanceSystem.Kind.values)}.")
        elif None in flags.values():
            bad = [flag for flag, value in flags.items() if value is None]
            row.outcome, row.reason = REFUSED, f"Write yes or no in {', '.join(bad)}."
        elif days and not (days.isdigit() and int(days) > 0):
            row.outcome, row.reason = REFUSED, "biometric_retention_days must be a whole number of days."
        elif owner and not department_known(owner):
            row.outcome, row.reason = REFUSED, f"Unknown department “{owner}” (owner_department_code)."
        elif SurveillanceSystem.objects.filter(name__iexact=name).exclude(code=code).exists():
            row.outcome, row.reason = REFUSED, f"Another system is already named “{name}”."
        else:
            problem = biometric_retention_problem(uses_biometrics=flags["uses_biometrics"],
                                                  days=int(days) if days else None)
            if problem:
                row.outcome, row.reason = REFUSED, problem
        if row.outcome == REFUSED:
            continue
        values = {"name": name, "kind": kind, "description": data["description"], **flags,
                  "biometric_retention_days": int(days) if days else None}
        data["values"], data["owner"] = values, owner
        file_systems[code] = data
        existing = systems.get(code)
        if existing is not None:
            changed = [key for key, value in values.items() if getattr(existing, key) != value]
            if (existing.owner.code if existing.owner_id else "") != owner:
                changed.append("owner")
            row.outcome = CHANGE if changed else UNCHANGED
            row.reason = f"new {', '.join(changed)}" if changed else ""

    # --- accounts ----------------------------------------------------------------------------
    uses_by_code = {use.code: use for use in PermissibleUse.objects.select_related("intended_use")}
    names_in_files: dict[tuple[str, str], str] = {}
    sides_in_files: dict[tuple[str, str], set[str]] = {}
    for line, data in read["accounts.csv"]:
        tick()
        system_code, employee_id = data["system_code"], data["employee_id"]
        account_name = data["account_name"]
        row = Row("accounts.csv", line, CREATE, f"account {account_name or '?'} on {system_code or '?'}", data=data)
        plan.rows.append(row)
        codes = [code.strip() for code in data["permissible_uses"].split(";") if code.strip()]
        row.reason = _account_problem(
            data=data, codes=codes, uses_by_code=uses_by_code, system_known=system_code in file_systems or
            system_code in systems, person_known=person_known(employee_id), department_known=department_known)
        if not row.reason:
            row.reason = _account_fit(
                data=data, departments=departments, person_department=person_department(employee_id),
                organization=person_organization(employee_id), uses=[uses_by_code[code] for code in codes],
                system=systems.get(system_code), person=existing_person(employee_id),
                names_in_files=names_in_files, sides_in_files=sides_in_files, row=row)
        if row.reason and row.outcome != UNCHANGED:
            row.outcome = REFUSED
        elif row.outcome != UNCHANGED:
            row.outcome = row.data.get("outcome", CREATE)
            row.reason = "new permissible uses" if row.outcome == CHANGE else ""
        data["uses"] = codes
    return plan


def _account_problem(*, data, codes, uses_by_code, system_known, person_known, department_known) -> str:
    """What is wrong with the row by itself, before it is compared with the portal's grants."""
    if not data["account_name"]:
        return "An account needs its account_name on the system."
    if not system_known:
        return f"Unknown system “{data['system_code']}”."
    if not person_known:
        return f"Unknown person: no employee id {data['employee_id'] or '(empty)'} in people.csv or the portal."
    if data["role"] not in Grant.Role.values:
        return f"The role “{data['role']}” does not exist: use one of {', '.join(Grant.Role.values)}."
    if data["department_code"] and not department_known(data["department_code"]):
        return f"Unknown department “{data['department_code']}”."
    unknown = [code for code in codes if code not in uses_by_code]
    if unknown:
        return f"Unknown permissible use{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)} (Table 1 codes)."
    if not codes:
        return "Name at least one permissible use (Table 1 codes, separated by “;”)."
    if data["ends_on"]:
        try:
            ends_on = _date(data["ends_on"])
        except ValueError:
            return f"“{data['ends_on']}” is not a date: write it as YYYY-MM-DD."
        if ends_on <= timezone.localdate():
            return f"The access would already have ended ({ends_on:%d %B %Y})."
    return ""


def _account_fit(*, data, departments, person_department, organization, uses, system, person, names_in_files,
                 sides_in_files, row) -> str:
    """Why the account cannot come in beside the other rows and the portal's grants, or ""."""
    system_code, employee_id, role = data["system_code"], data["employee_id"], data["role"]
    department_code = data["department_code"]
    ends_on = _date(data["ends_on"]) if data["ends_on"] else None
    if organization:
        # A third party's person: view-only end-user access under an agreement in force (S2.3, S3.7).
        agreement = _agreement_for(organization=organization, system_code=system_code)
        if agreement is None:
            return (f"A third party without an agreement: no approved information sharing agreement with "
                    f"{organization} in force covers {system_code} (Section 3.7).")
        problem = third_party_access_problem(person=User(organization=organization, full_name=employee_id),
                                             under_agreement=True, role=role)
        if problem:
            return problem
        if department_code and department_code != agreement.department.code:
            return (f"The agreement with {organization} is sponsored by {agreement.department}; "
                    f"department_code must be {agreement.department.code} or empty.")
        if agreement.excludes_biometric and system is not None and system.uses_biometrics:
            return f"{system} uses biometrics, and the agreement with {organization} excludes biometric data."
        outside = [use.code for use in uses if use.intended_use.code != PUBLIC_SAFETY]
        if outside:
            return f"A third party's access serves public safety only (Section 3.7), not: {', '.join(outside)}."
        if ends_on and ends_on > agreement.ends_on:
            return f"The access cannot outlast the agreement, which ends on {agreement.ends_on:%d %B %Y}."
        department_code = agreement.department.code
        data["agreement"] = agreement.pk
        data["ends_on_date"] = ends_on or agreement.ends_on
    else:
        if not department_code:
            department_code = person_department
        if department_code != person_department:
            return (f"A person in two departments: {employee_id} is in {person_department or 'no department'}, "
                    f"this account is for {department_code}.")
        data["ends_on_date"] = ends_on
    data["department"] = department_code
    existing_department = departments.get(department_code)
    if existing_department is not None and not existing_department.in_scope:
        return (f"{existing_department} is outside the order's scope (Section 1): it cannot be given accounts "
                "on surveillance systems.")

    # One person per account name on a system (JC19a): within the files ...
    key = (system_code, data["account_name"].casefold())
    if key in names_in_files:
        other = names_in_files[key]
        if other != employee_id:
            return f"The account name “{data['account_name']}” is used on {system_code} by {other} above."
        return f"The account “{data['account_name']}” on {system_code} is listed twice."
    names_in_files[key] = employee_id
    # ... and separation of duties (3.2) within the files ...
    side = "staff" if role in Grant.STAFF_ROLES else "end_user"
    sides = sides_in_files.setdefault((employee_id, system_code), set())
    if sides and side not in sides:
        return (f"A separation-of-duties conflict (Section 3.2): {employee_id} cannot be both an end user and a "
                f"staff member (administrator, monitor or auditor) of {system_code}.")
    sides.add(side)
    if system is None:
        return ""
    # ... and against the portal's live grants.
    holder = account_name_holder(system=system, account_name=data["account_name"])
    if holder is not None:
        if person is None or holder.person_id != person.pk:
            return (f"The account name “{data['account_name']}” is already used on {system} by {holder.person}, "
                    "someone else.")
        if holder.role != role:
            return (f"{holder.person} already holds “{holder.account_name}” on {system} for the "
                    f"{holder.get_role_display().lower()} role: each role is an account of its own.")
        if holder.department.code != department_code:
            return f"The account “{holder.account_name}” on {system} is already held for {holder.department}."
        data["grant"] = holder.pk
        held_uses = set(holder.permissible_uses.values_list("code", flat=True))
        if held_uses != {use.code for use in uses}:
            data["outcome"] = CHANGE
            return ""
        row.outcome = UNCHANGED
        return ""
    if person is not None:
        problem = sod_conflict(person=person, system=system, roles=[role])
        if problem:
            return f"A separation-of-duties conflict: {problem}"
        if Grant.objects.filter(person=person, system=system, role=role, status__in=Grant.LIVE_STATUSES).exists():
            return (f"{person} already holds the {Grant.Role(role).label.lower()} role on {system} under another "
                    "account name.")
    return ""


def _agreement_for(*, organization: str, system_code: str) -> SharingAgreement | None:
    today = timezone.localdate()
    for agreement in SharingAgreement.objects.filter(
        third_party__iexact=organization, systems__code=system_code, status=SharingAgreement.Status.APPROVED,
        starts_on__lte=today, ends_on__gt=today,
    ).select_related("department").order_by("-ends_on"):
        return agreement
    return None


# --- Writing ---------------------------------------------------------------------------------------

@dataclass
class Applied:
    batch: ImportBatch | None
    validations: list[Validation]


def require_importer(by: User) -> None:
    """Only ITSA, who creates and manages every account (S3.5b), imports a city."""
    if not by.roles.is_itsa:
        audit_refusal(actor=by, action="adoption.import")
        raise NotAllowed(f"{by} is not an ITSA administrator: only ITSA can import a city's records.")


def import_apply(plan: Plan, *, by: User, progress: Progress = None) -> Applied:
    """Write the plan, all of it or nothing, then open the baseline validations. ITSA only.

    A plan that refuses any row is refused whole: nothing is written. A plan with nothing to create
    or change writes nothing either (no batch, no validation): that is a second run of the same files."""
    require_importer(by)
    if plan.refused:
        detail = f"{len(plan.refused)} refused row(s); first: {plan.refused[0]}"
        audit_refusal(actor=by, action="adoption.import", outcome="refused", detail=detail)
        raise RuleViolation(f"Nothing was imported: {len(plan.refused)} row(s) are refused. Correct them and run "
                            "the import again (the dry run lists them).")
    if not plan.writes:
        return Applied(batch=None, validations=[])
    try:
        batch = _write(plan, by=by, progress=progress)
    except IntegrityError as error:
        # Someone changed the portal between the check and the writing (an e-mail or a name taken):
        # the transaction rolled back, so nothing is written; the next run's check names the row.
        raise RuleViolation("Nothing was imported: the portal changed while the files were being imported. "
                            "Run the import again.") from error
    return Applied(batch=batch, validations=_baseline_validations(batch, by=by))


@service_transaction
def _write(plan: Plan, *, by: User, progress: Progress = None) -> ImportBatch:
    total, done = len(plan.rows), 0
    rows = {name: [row for row in plan.rows if row.file == name] for name in FILES}
    reason = "imported at adoption"

    def tick():
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    for row in rows["departments.csv"]:
        tick()
        data = row.data
        department = Department.objects.filter(code=data["code"]).first() or Department(code=data["code"])
        if (department.name, department.kind) != (data["name"], data["kind"]):
            department.name, department.kind = data["name"], data["kind"]
            department._change_reason = reason
            department.save()
    for row in rows["people.csv"]:
        tick()
        data = row.data
        if row.outcome == UNCHANGED:
            continue
        person = User.objects.filter(pk=data["pk"]).first() if "pk" in data else None
        department = Department.objects.get(code=data["department_code"]) if data["department_code"] else None
        if person is None:
            person = User(email=data["email"])
            person.set_unusable_password()
        person.email, person.employee_id, person.full_name = data["email"], data["employee_id"], data["full_name"]
        person.title, person.organization, person.department = data["title"], data["organization"], department
        person._change_reason = reason
        person.save()
    for row in rows["departments.csv"]:
        head_id = row.data["head_employee_id"]
        if head_id:
            department = Department.objects.get(code=row.data["code"])
            department_set_head(department=department, head=User.objects.get(employee_id=head_id), by=by)
    for row in rows["systems.csv"]:
        tick()
        data = row.data
        if row.outcome == UNCHANGED:
            continue
        system = SurveillanceSystem.objects.filter(code=data["code"]).first() or SurveillanceSystem(code=data["code"])
        for key, value in data["values"].items():
            setattr(system, key, value)
        system.owner = Department.objects.get(code=data["owner"]) if data["owner"] else None
        system.full_clean()
        system._change_reason = reason
        system.save()
    batch = ImportBatch.objects.create(imported_by=by, files=plan.files, counts=plan.counts())
    for row in rows["accounts.csv"]:
        tick()
        data = row.data
        if row.outcome == UNCHANGED:
            continue
        uses = list(PermissibleUse.objects.filter(code__in=data["uses"]))
        if row.outcome == CHANGE:
            grant = Grant.objects.get(pk=data["grant"])
            grant_change(grant=grant, role=grant.role, permissible_uses=uses, account_name=grant.account_name, by=by)
            continue
        try:
            grant = grant_open(
                person=User.objects.get(employee_id=data["employee_id"]),
                system=SurveillanceSystem.objects.get(code=data["system_code"]),
                department=Department.objects.get(code=data["department"]), role=data["role"],
                account_name=data["account_name"], permissible_uses=uses, by=by, ends_on=data["ends_on_date"],
                under_agreement="agreement" in data,
            )
        except RuleViolation as error:
            # The portal changed since the plan was made: the whole import rolls back.
            raise RuleViolation(f"Nothing was imported: {row.file}:{row.line}: {error.message}") from error
        if "agreement" in data:
            AgreementGrant.objects.create(grant=grant, agreement_id=data["agreement"])
        AdoptedGrant.objects.create(grant=grant, batch=batch)
    hashes = "; ".join(f"{name} sha256 {digest}" for name, digest in sorted(plan.files.items()))
    audit_record(actor=by, action="adoption.import", target=batch, detail=f"{plan.counts()}; {hashes}")
    return batch


def _baseline_validations(batch: ImportBatch, *, by: User) -> list[Validation]:
    """Each department that got grants has them validated by its head, through the validations'
    own schedule: a department never validated is due at once, so the schedule opens its annual
    validation (the head is told; reminders, escalation and non-response follow), and an annual
    validation already open takes the new grants in. A department validated recently is not due:
    ITSA's user audit (S3.5d) covers its imported grants, with the same due date, reminders and
    non-response."""
    imported = Grant.objects.filter(pk__in=AdoptedGrant.objects.filter(batch=batch).values("grant"))
    open_due_validations()
    validations = []
    for department in Department.objects.filter(pk__in=imported.values("department")).order_by("name"):
        grants = imported.filter(department=department)
        covering = Validation.objects.filter(department=department, status=Validation.Status.OPEN,
                                             items__grant__in=grants).distinct()
        uncovered = grants.exclude(pk__in=ValidationItem.objects.filter(
            validation__in=covering, validation__status=Validation.Status.OPEN).values("grant"))
        if uncovered.exists():
            validations.append(user_audit_open(by=by, department=department))
        else:
            validations.extend(covering)
    return validations


def import_city(source: Source, *, by: User, progress: Progress = None) -> tuple[Plan, Applied]:
    """Plan and apply in one go (the command's real run)."""
    plan = import_plan(source, progress=progress)
    return plan, import_apply(plan, by=by, progress=progress)

