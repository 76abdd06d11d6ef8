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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection
from django.db.models import CharField, F, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Upper
from django.utils import timezone
from simple_history.models import HistoricalRecords

from accounts.models import (
    OVERSIGHT_GROUP, Department, Grant, SurveillanceSystem, User, account_name_key, biometric_retention_problem,
)
from accounts.services import department_set_head, grant_change, grant_open, grant_set_end, third_party_access_problem
from accounts.sod import sod_conflict
from agreements.models import PUBLIC_SAFETY, AgreementGrant, SharingAgreement
from audits.models import Validation, ValidationItem
from audits.services import open_due_validations, user_audit_open
from portal.audit import audit_record, audit_refusal, service_transaction
from portal.errors import NotAllowed, RuleViolation
from portal.models import PermissibleUse

from .models import AdoptedGrant, ImportBatch

CREATE, CHANGE, UNCHANGED, REFUSED = "create", "change", "unchanged", "refused"
BULK_CHUNK = 5000  # grants written together: the progress bar moves, and the memory stays small

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
    # Everybody in the portal, read once, found by employee id and by e-mail (matched as the
    # database matches e-mail addresses whatever their case: `email__iexact`).
    portal_people = list(User.objects.select_related("department").annotate(email_key=Upper("email"))
                         .order_by(*User._meta.ordering, "pk"))
    people_by_id = {p.employee_id: p for p in portal_people if p.employee_id}
    people_by_pk = {p.pk: p for p in portal_people}
    people_by_email: dict[str, list[User]] = {}
    for person in portal_people:
        people_by_email.setdefault(person.email_key, []).append(person)
    email_keys = _database_keys((data["email"].lower() for _, data in read["people.csv"]), Upper)
    for line, data in read["people.csv"]:
        tick()
        employee_id, email = data["employee_id"], data["email"].lower()
        data["email"] = email
        row = Row("people.csv", line, CREATE, f"person {employee_id or '?'}", data=data)
        plan.rows.append(row)
        department_code, organization = data["department_code"], data["organization"]
        existing = people_by_id.get(employee_id)
        same_email = people_by_email.get(email_keys.get(email), []) if email else []
        by_email = same_email[0] if same_email else None
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
                any(other.pk != person.pk for other in same_email):
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
        return people_by_pk[pk] if pk else None

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
    roles_in_files: set[tuple[str, str, str]] = set()
    live = LiveGrants.read(data["account_name"] for _, data in read["accounts.csv"])
    agreements: dict[tuple[str, str], SharingAgreement | None] = {}
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
                names_in_files=names_in_files, sides_in_files=sides_in_files, roles_in_files=roles_in_files,
                live=live, agreements=agreements, row=row)
        if row.reason and row.outcome != UNCHANGED:
            row.outcome = REFUSED
        elif row.outcome != UNCHANGED:
            row.outcome = row.data.get("outcome", CREATE)
            row.reason = f"new {', '.join(data['changed'])}" if row.outcome == CHANGE else ""
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
                 sides_in_files, roles_in_files, live, agreements, row) -> str:
    """Why the account cannot come in beside the other rows and the portal's grants, or ""."""
    system_code, employee_id, role = data["system_code"], data["employee_id"], data["role"]
    department_code = data["department_code"]
    ends_on = _date(data["ends_on"]) if data["ends_on"] else None
    if organization:
        # A third party's person: view-only end-user access under an agreement in force (S2.3, S3.7).
        if (organization, system_code) not in agreements:
            agreements[organization, system_code] = _agreement_for(organization=organization, system_code=system_code)
        agreement = agreements[organization, system_code]
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
    # ... one account a role (a role is one account on a system) ...
    if (employee_id, system_code, role) in roles_in_files:
        return (f"{employee_id} already has an account for the {Grant.Role(role).label.lower()} role on "
                f"{system_code} above: each role is one account.")
    roles_in_files.add((employee_id, system_code, role))
    if system is None:
        return ""
    # ... and against the portal's live grants.
    holder = live.holder(system=system, account_name=data["account_name"])
    if holder is not None:
        if person is None or holder.person_id != person.pk:
            holder = live.grant(holder.pk)
            return (f"The account name “{data['account_name']}” is already used on {system} by {holder.person}, "
                    "someone else.")
        if holder.role != role:
            holder = live.grant(holder.pk)
            return (f"{holder.person} already holds “{holder.account_name}” on {system} for the "
                    f"{holder.get_role_display().lower()} role: each role is an account of its own.")
        existing_department = departments.get(department_code)
        if existing_department is None or holder.department_id != existing_department.pk:
            holder = live.grant(holder.pk)
            return f"The account “{holder.account_name}” on {system} is already held for {holder.department}."
        data["grant"] = holder.pk
        changed = []
        if live.uses.get(holder.pk, set()) != {use.code for use in uses}:
            changed.append("permissible uses")
        if holder.ends_on != data["ends_on_date"]:
            changed.append("end date")
        if changed:
            data["outcome"], data["changed"] = CHANGE, changed
            return ""
        row.outcome = UNCHANGED
        return ""
    if person is not None:
        held = live.roles_held(person=person, system=system)
        # sod_conflict decides; it is asked only where it could find a conflict.
        if held or person.pk in live.oversight:
            problem = sod_conflict(person=person, system=system, roles=[role])
            if problem:
                return f"A separation-of-duties conflict: {problem}"
        if role in held:
            return (f"{person} already holds the {Grant.Role(role).label.lower()} role on {system} under another "
                    "account name.")
    return ""


@dataclass(frozen=True)
class Held:
    """A live grant of the portal, as the checks need it."""

    pk: int
    person_id: int
    role: str
    department_id: int
    ends_on: date | None


@dataclass
class LiveGrants:
    """The portal's live grants, read once for a whole import: by account name on each system (as
    `accounts.services.account_name_holder` finds them, names compared by their key), by person and
    system, and their permissible uses; and who reads records for oversight (sod_conflict's rule)."""

    by_name: dict[tuple[int, str], Held]
    by_person: dict[tuple[int, int], set[str]]
    uses: dict[int, set[str]]
    oversight: set[int]
    keys: dict[str, str]

    @classmethod
    def read(cls, account_names: Iterable[str]) -> "LiveGrants":
        live = Grant.objects.filter(status__in=Grant.LIVE_STATUSES)
        by_name: dict[tuple[int, str], Held] = {}
        by_person: dict[tuple[int, int], set[str]] = {}
        rows = live.annotate(key=account_name_key("account_name")).order_by("pk").values_list(
            "pk", "system_id", "key", "person_id", "role", "department_id", "ends_on")
        for pk, system_id, key, person_id, role, department_id, ends_on in rows.iterator(chunk_size=5000):
            by_name.setdefault((system_id, key), Held(pk, person_id, role, department_id, ends_on))
            by_person.setdefault((person_id, system_id), set()).add(role)
        uses: dict[int, set[str]] = {}
        through = Grant.permissible_uses.through.objects.filter(grant__status__in=Grant.LIVE_STATUSES)
        for grant_id, code in through.values_list("grant_id", "permissibleuse__code").iterator(chunk_size=5000):
            uses.setdefault(grant_id, set()).add(code)
        oversight = set(User.objects.filter(groups__name=OVERSIGHT_GROUP).values_list("pk", flat=True))
        keys = _database_keys((name.strip() for name in account_names), account_name_key)
        return cls(by_name=by_name, by_person=by_person, uses=uses, oversight=oversight, keys=keys)

    def holder(self, *, system: SurveillanceSystem, account_name: str) -> Held | None:
        name = account_name.strip()
        key = self.keys.get(name)
        if key is None:  # a name the files did not give: ask the database
            key = _database_keys([name], account_name_key)[name]
        return self.by_name.get((system.pk, key))

    def roles_held(self, *, person: User, system: SurveillanceSystem) -> set[str]:
        return self.by_person.get((person.pk, system.pk), set())

    @staticmethod
    def grant(pk: int) -> Grant:
        """The whole grant, for the words of a refusal."""
        return Grant.objects.select_related("person", "department").get(pk=pk)


def _database_keys(values: Iterable[str], key: Callable) -> dict[str, str]:
    """Each value's key (`key` builds the expression, e.g. accounts.models.account_name_key) as the
    database computes it, in one query: a value from the files matches the portal's rows exactly as
    a lookup in the database would, whatever the database's idea of case."""
    values = sorted(set(values))
    if not values:
        return {}
    compiler = Grant.objects.none().query.get_compiler(connection=connection)
    if connection.vendor != "postgresql":  # a development database: a few hundred values a query
        keys = {}
        for start in range(0, len(values), 400):
            chunk = values[start:start + 400]
            parts = [key(Value(value)).as_sql(compiler, connection) for value in chunk]
            with connection.cursor() as cursor:
                cursor.execute("SELECT " + ", ".join(sql for sql, _ in parts), [p for _, ps in parts for p in ps])
                keys.update(zip(chunk, cursor.fetchone()))
        return keys
    sql, params = key(RawSQL("value", (), output_field=CharField())).as_sql(compiler, connection)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT value, {sql} FROM unnest(%s::text[]) AS t(value)", [*params, values])
        return dict(cursor.fetchall())


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
    if len(plan.writes) >= BULK_CHUNK:
        _refresh_statistics(Grant, Grant.permissible_uses.through, AdoptedGrant, User)
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

    departments = {d.code: d for d in Department.objects.all()}
    for row in rows["departments.csv"]:
        tick()
        data = row.data
        department = departments.get(data["code"]) or Department(code=data["code"])
        if (department.name, department.kind) != (data["name"], data["kind"]):
            department.name, department.kind = data["name"], data["kind"]
            department._change_reason = reason
            department.save()
        departments[department.code] = department

    people = {p.employee_id: p for p in User.objects.exclude(employee_id="")}
    people_by_pk = {p.pk: p for p in User.objects.filter(
        pk__in=[row.data["pk"] for row in rows["people.csv"] if "pk" in row.data])}
    new_people = []
    for row in rows["people.csv"]:
        tick()
        data = row.data
        if row.outcome == UNCHANGED:
            continue
        person = people_by_pk.get(data["pk"]) if "pk" in data else None
        new = person is None
        if new:
            person = User(email=data["email"])
            person.set_unusable_password()
        person.email, person.employee_id, person.full_name = data["email"], data["employee_id"], data["full_name"]
        person.title, person.organization = data["title"], data["organization"]
        person.department = departments[data["department_code"]] if data["department_code"] else None
        person._change_reason = reason
        if new and _in_bulk():
            new_people.append(person)
        else:
            person.save()
        people[person.employee_id] = person
    _bulk_create_with_history(User, new_people, by=by, reason=reason)
    new_person_pks = {person.pk for person in new_people}

    for row in rows["departments.csv"]:
        head_id = row.data["head_employee_id"]
        if head_id:
            department_set_head(department=departments[row.data["code"]], head=people[head_id], by=by)
    systems = {s.code: s for s in SurveillanceSystem.objects.all()}
    for row in rows["systems.csv"]:
        tick()
        data = row.data
        if row.outcome == UNCHANGED:
            continue
        system = systems.get(data["code"]) or SurveillanceSystem(code=data["code"])
        for key, value in data["values"].items():
            setattr(system, key, value)
        system.owner = departments[data["owner"]] if data["owner"] else None
        system.full_clean()
        system._change_reason = reason
        system.save()
        systems[system.code] = system
    batch = ImportBatch.objects.create(imported_by=by, files=plan.files, counts=plan.counts())

    accounts = [row for row in rows["accounts.csv"] if row.outcome != UNCHANGED]
    for row in rows["accounts.csv"]:
        if row.outcome == UNCHANGED:
            tick()
    uses_by_code = {use.code: use for use in PermissibleUse.objects.all()}
    _write_accounts(accounts, batch=batch, people=people, systems=systems, departments=departments,
                    uses_by_code=uses_by_code, new_person_pks=new_person_pks, by=by, tick=tick)
    hashes = "; ".join(f"{name} sha256 {digest}" for name, digest in sorted(plan.files.items()))
    audit_record(actor=by, action="adoption.import", target=batch, detail=f"{plan.counts()}; {hashes}")
    return batch


def _write_accounts(rows: list[Row], *, batch, people, systems, departments, uses_by_code, new_person_pks, by,
                    tick) -> None:
    """Open the accounts' grants and change the changed ones. A grant that the portal's live grants,
    read again now, show cannot meet a rule of `grant_open` is opened by `grant_open` itself, which
    refuses it in its own words; the others (a city's import: nearly all) are written in bulk with
    the same fields and history as `grant_open` writes."""
    today = timezone.localdate()
    # Every grant change of one person is serialized (accounts.services.lock_person): the people
    # the portal had before this import are locked at once; those it just made are this transaction's.
    existing = {people[row.data["employee_id"]].pk for row in rows} - new_person_pks
    list(User.objects.select_for_update().filter(pk__in=existing).values_list("pk", flat=True))
    live = LiveGrants.read(row.data["account_name"] for row in rows if row.outcome == CREATE)

    def may_be_refused(data, person, system, department) -> bool:
        """Whether what was read shows something grant_open might refuse the grant for; grant_open
        then decides, in its words."""
        return ("agreement" in data or not department.in_scope or person.is_third_party
                or (data["ends_on_date"] is not None and data["ends_on_date"] <= today)
                or person.pk in live.oversight or live.roles_held(person=person, system=system)
                or live.holder(system=system, account_name=data["account_name"]) is not None)

    bulk: list[tuple[Grant, list]] = []

    def flush():
        _open_grants_in_bulk(bulk, by=by)
        _insert(AdoptedGrant, grant=[grant.pk for grant, _ in bulk], batch=[batch.pk] * len(bulk))
        for _ in bulk:
            tick()
        bulk.clear()

    for row in rows:
        data = row.data
        uses = [uses_by_code[code] for code in data["uses"]]
        if row.outcome == CHANGE:
            tick()
            grant = Grant.objects.get(pk=data["grant"])
            try:
                if "permissible uses" in data["changed"]:
                    grant = grant_change(grant=grant, role=grant.role, permissible_uses=uses,
                                         account_name=grant.account_name, by=by)
                if "end date" in data["changed"]:
                    grant_set_end(grant=grant, ends_on=data["ends_on_date"], by=by)
            except RuleViolation as error:
                raise RuleViolation(f"Nothing was imported: {row.file}:{row.line}: {error.message}") from error
            continue
        person, system = people[data["employee_id"]], systems[data["system_code"]]
        department = departments[data["department"]]
        if _in_bulk() and not may_be_refused(data, person, system, department):
            grant = Grant(person_id=person.pk, system_id=system.pk, department_id=department.pk, role=data["role"],
                          account_name=data["account_name"].strip(), provisioned_at=timezone.now(),
                          provisioned_by_id=by.pk, ends_on=data["ends_on_date"], view_only=False)
            # As grant_open's full_clean, but for the rules read in bulk above and the unique
            # constraints, which the database keeps.
            grant.clean_fields(exclude=["person", "system", "department", "provisioned_by", "permissible_uses"])
            bulk.append((grant, uses))
            if len(bulk) == BULK_CHUNK:
                flush()
            continue
        tick()
        try:
            grant = grant_open(person=person, system=system, department=department, role=data["role"],
                               account_name=data["account_name"], permissible_uses=uses, by=by,
                               ends_on=data["ends_on_date"], under_agreement="agreement" in data)
        except RuleViolation as error:
            # The portal changed since the plan was made: the whole import rolls back.
            raise RuleViolation(f"Nothing was imported: {row.file}:{row.line}: {error.message}") from error
        if "agreement" in data:
            AgreementGrant.objects.create(grant=grant, agreement_id=data["agreement"])
        AdoptedGrant.objects.create(grant=grant, batch=batch)
    if bulk:
        flush()


def _in_bulk() -> bool:
    """Grants and people are written in bulk, their history copied by the database, on PostgreSQL
    (the portal's database); on a development database, one by one through the services."""
    return connection.vendor == "postgresql"


def _open_grants_in_bulk(grants: list[tuple[Grant, list]], *, by: User) -> None:
    """Write grants and their permissible uses as `grant_open` does, in a few statements: the
    grant, its creation in its history, its uses, and the history's second row, which records them
    (django-simple-history writes one when a many-to-many field is set, with the uses it then holds).
    The history rows are copied by the database from the rows just written."""
    Grant.objects.bulk_create([grant for grant, _ in grants], batch_size=2000)
    pks = [grant.pk for grant, _ in grants]
    _copy_to_history(Grant, pks, history_type="+", by=by, reason=None)
    links = [(grant.pk, use.pk) for grant, uses in grants for use in uses]
    _insert(Grant.permissible_uses.through, grant=[grant for grant, _ in links], permissibleuse=[use for _, use in links])
    when = _copy_to_history(Grant, pks, history_type="~", by=by, reason=None)
    # The second row's uses: each link of the grant, under that row.
    Through, History = Grant.permissible_uses.through, Grant.history.model
    UsesHistory = HistoricalRecords.m2m_models[Grant._meta.get_field("permissible_uses")]
    qn = connection.ops.quote_name
    link_columns = [field.column for field in Through._meta.fields]
    target = ", ".join(qn(UsesHistory._meta.get_field(field.name).column) for field in Through._meta.fields)
    grant_column = qn(Through._meta.get_field("grant").column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {qn(UsesHistory._meta.db_table)} ({target}, {qn(UsesHistory._meta.get_field('history').column)}) "
            f"SELECT {', '.join('t.' + qn(column) for column in link_columns)}, h.{qn(History._meta.pk.column)} "
            f"FROM {qn(Through._meta.db_table)} t JOIN {qn(History._meta.db_table)} h "
            f"ON h.{qn(History._meta.get_field('id').column)} = t.{grant_column} "
            f"AND h.{qn(History._meta.get_field('history_type').column)} = '~' "
            f"AND h.{qn(History._meta.get_field('history_date').column)} = %s::timestamptz "
            f"WHERE t.{grant_column} = ANY(%s::{Grant._meta.pk.rel_db_type(connection)}[]) "
            f"ORDER BY t.{qn(Through._meta.pk.column)}",
            [when, pks])


def _bulk_create_with_history(model, objects: list, *, by: User, reason: str | None) -> None:
    """`bulk_create`, then the "+" history row that each object's `save()` would have written."""
    if not objects:
        return
    model.objects.bulk_create(objects, batch_size=2000)
    _copy_to_history(model, [obj.pk for obj in objects], history_type="+", by=by, reason=reason)


def _copy_to_history(model, pks: list[int], *, history_type: str, by: User, reason: str | None):
    """One history row for each of the objects `pks`, as django-simple-history's
    create_historical_record makes it (the tracked fields, when, what, who, why), copied by the
    database from the rows just written. Returns the rows' history_date."""
    History = model.history.model
    qn = connection.ops.quote_name
    tracked = ", ".join(qn(field.column) for field in History.tracked_fields)
    meta = ", ".join(qn(History._meta.get_field(name).column)
                     for name in ("history_date", "history_type", "history_user", "history_change_reason"))
    when, pk = timezone.now(), qn(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {qn(History._meta.db_table)} ({tracked}, {meta}) "
            f"SELECT {tracked}, %s::timestamptz, %s::text, %s::{User._meta.pk.rel_db_type(connection)}, %s::text "
            f"FROM {qn(model._meta.db_table)} "
            f"WHERE {pk} = ANY(%s::{model._meta.pk.rel_db_type(connection)}[]) ORDER BY {pk}",
            [when, history_type, by.pk if by else None, reason, pks])
    return when


def _insert(model, **columns: list) -> None:
    """Rows of `model` from lists of values, one a field, in one statement."""
    if not next(iter(columns.values())):
        return
    fields = [model._meta.get_field(name) for name in columns]
    qn = connection.ops.quote_name
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(field.column) for field in fields)}) "
                       f"SELECT * FROM unnest({arrays})", list(columns.values()))


def _refresh_statistics(*models) -> None:
    """A city's import makes these tables many times larger at once: the planner's statistics must
    follow before the baseline validations read them (autovacuum would see to it only later)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(model._meta.db_table) for model in models))


def _baseline_validations(batch: ImportBatch, *, by: User) -> list[Validation]:
    """Each department that got grants has them validated by its head, through the validations'
    own schedule: a department never validated is due at once, so the schedule opens its annual
    validation (the head is told; reminders, escalation and non-response follow), and an annual
    validation already open takes the new grants in. A department validated recently is not due:
    ITSA's user audit (S3.5d) covers its imported grants, with the same due date, reminders and
    non-response."""
    adopted = AdoptedGrant.objects.filter(batch=batch)
    imported: dict[int, set[int]] = {}
    for grant_id, department_id in adopted.values_list("grant_id", "grant__department_id").iterator(chunk_size=5000):
        imported.setdefault(department_id, set()).add(grant_id)
    open_due_validations()
    # Which imported grants an open validation of their own department already reviews, and which.
    covering: dict[int, set[int]] = {}
    items = ValidationItem.objects.filter(
        grant__in=adopted.values("grant"), validation__status=Validation.Status.OPEN,
        validation__department=F("grant__department"))
    for grant_id, validation_id in items.values_list("grant_id", "validation_id").iterator(chunk_size=5000):
        covering.setdefault(grant_id, set()).add(validation_id)
    open_ones = {v.pk: v for v in Validation.objects.filter(
        pk__in={pk for pks in covering.values() for pk in pks}).select_related("department")}
    validations = []
    for department in Department.objects.filter(pk__in=imported).order_by("name"):
        grants = imported[department.pk]
        if any(grant not in covering for grant in grants):
            validations.append(user_audit_open(by=by, department=department))
        else:
            reviewing = set().union(*(covering[grant] for grant in grants))
            validations.extend(v for v in open_ones.values() if v.pk in reviewing)
    return validations


def import_city(source: Source, *, by: User, progress: Progress = None) -> tuple[Plan, Applied]:
    """Plan and apply in one go (the command's real run)."""
    plan = import_plan(source, progress=progress)
    return plan, import_apply(plan, by=by, progress=progress)

