"""Benchmark: the validation attestation and the reports, as PDF, in a 20,000-grant city (issue 4).

Builds on PostgreSQL a city of 100 departments, 60 systems and 20,000 grants with two years of
records (access requests, grants ended, annual validations, separation-of-duties findings). One
department, "Department 000", holds 2,000 of the grants and an annual validation of those 2,000,
every one decided by its head and signed off. Then measures, each in a fresh process:

  1. the attestation of that validation, `audits.documents.attestation_document()` with the worker's
     render limit, as the worker makes it: target 30 s (a table of one row a grant since issue 21; it
     was 5 s for a line an entry rendered in the request, before it moved to the worker);
  2. Department 000's annual report for last year: `report_tables()` + `report_document()`;
  3. the citywide report of the last half-year that has ended: `report_tables()` + `report_document()`;
  4. the citywide figures of the whole of last year: `city_figures().tables()`, made public with
     `public_tables()`, + `report_document()`.
Target for each report: 10 s, figures and PDF together. It is a measurement, not a test: nothing in
the suite runs it.

Run from the project root, against a database of its own (every row in it is deleted):

    DATABASE_URL=postgres://postgres@127.0.0.1:54329/portal_bench_docs python bench/documents.py [--json FILE]

Each measurement runs in a fresh process forked from a server started before the build (as in
`validations.py`): wall time (time.perf_counter), the CPU time of the process, of the child that
WeasyPrint renders in (`portal.pdf` forks one per document) and of the PostgreSQL backend (when
local), the SQL queries, and afterwards the PDF's pages, size and text (pypdf), checked against
figures counted from the build itself. PDF_RENDER_SECONDS defaults to 120 here, so a slow render
is measured rather than stopped.

Exit status: 0 when every check passes and every target is met, 1 when the database is refused or
a check fails, 2 when the checks pass but a target is missed.
"""

import argparse
import hashlib
import io
import json
import multiprocessing.forkserver
import os
import platform
import random
import re
import resource
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from time import perf_counter
from zoneinfo import ZoneInfo

from validations import (
    cpu_model,
    load_average,
    MB,
    cpu_seconds,
    local_backend_pid,
    max_rss_bytes,
    measure_in_fresh_process,
    refuse_unless_bench_database,
    server_cpu_seconds,
    setup_django,
    wipe_and_migrate,
)

DEPARTMENTS = 100
SYSTEMS = 60
BIG_DEPARTMENT = "Department 000"
PEOPLE = 4000  # the people who hold grants, heads and ITSA aside
BIG_PEOPLE = 400  # of them in Department 000
GRANTS_PER_PERSON = 5
GRANTS = PEOPLE * GRANTS_PER_PERSON  # 20,000
BIG_GRANTS = BIG_PEOPLE * GRANTS_PER_PERSON  # 2,000
HISTORY_DAYS = 730  # grants provisioned over the last two years
ENDED_SHARE = 0.10  # of the grants, ended in the last year
RETURNED_SHARE = 0.05  # of the grants, with a request returned by ITSA before the one completed
DECLINED_SHARE = 0.03  # of the grants, with a request declined by the head before the one completed
REMOVAL_SHARE = 0.8  # of the ended grants outside Department 000, ended by a removal request
NOT_SIGNED_OFF_SHARE = 0.10  # of the validations due in the last year
LATE_SHARE = 0.25  # of the validations signed off
SOD_FINDINGS = 40
SEED = 4

ATTESTATION_TARGET_SECONDS = 30.0
REPORT_TARGET_SECONDS = 10.0

REVOKE_REASONS = (
    "No longer needs the system for the duties of the post.",
    "Moved to a post without investigative duties.",
    "Account not used in the last six months.",
    "The project the access was granted for has ended.",
)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- The city ---------------------------------------------------------------------------------

def build_city() -> tuple[dict, dict]:
    """Rows straight into the tables (bulk_create); returns the counts and the facts the checks
    count their expected figures from (kept here, independent of the code under test)."""
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from access_requests.models import AccessRequest
    from accounts.models import ITSA_GROUP, Department, Grant, SodFinding, SurveillanceSystem, User
    from accounts.services import role_group
    from audits.models import Validation, ValidationItem
    from portal.models import PermissibleUse

    started = perf_counter()
    rng = random.Random(SEED)
    zone = ZoneInfo(settings.TIME_ZONE)
    now = timezone.now()
    today = timezone.localdate()
    no_password = make_password(None)
    Role, Status, Action = Grant.Role, AccessRequest.Status, AccessRequest.Action

    def days_ago(days: float) -> datetime:
        return now - timedelta(days=days)

    def noon(day: date) -> datetime:
        return datetime.combine(day, time(12), tzinfo=zone)

    # Department 000's annual validation: opened 150 days ago, due 30 days later, signed off on day 20.
    big_period = today - timedelta(days=150)
    big_due = big_period + timedelta(days=30)
    big_signed_at = noon(big_period + timedelta(days=20))

    facts = {"grants": [], "requests": [], "validations": [], "sod_findings": []}
    with transaction.atomic():
        itsa = User.objects.create(email="itsa@bench.example", full_name="Bench ITSA", password=no_password)
        itsa.groups.add(role_group(ITSA_GROUP))
        departments = Department.objects.bulk_create(
            Department(name=f"Department {n:03d}", code=f"dept-{n:03d}") for n in range(DEPARTMENTS)
        )
        kinds = list(SurveillanceSystem.Kind.values)
        systems = SurveillanceSystem.objects.bulk_create(
            SurveillanceSystem(name=f"System {n:02d}", code=f"system-{n:02d}", kind=kinds[n % len(kinds)],
                               owner=departments[n % DEPARTMENTS])
            for n in range(SYSTEMS)
        )
        heads = User.objects.bulk_create(
            User(email=f"head.{d.code}@bench.example", full_name=f"Head of {d.name}", department=d,
                 password=no_password)
            for d in departments
        )
        for department, head in zip(departments, heads):
            department.head = head
        Department.objects.bulk_update(departments, ["head"])
        index_of = {department.pk: n for n, department in enumerate(departments)}

        def department_of(p: int) -> Department:
            # The first BIG_PEOPLE in Department 000, the others spread over the other 99.
            return departments[0] if p < BIG_PEOPLE else departments[1 + (p - BIG_PEOPLE) % (DEPARTMENTS - 1)]

        people = User.objects.bulk_create(
            (User(email=f"person.{p:05d}@bench.example", full_name=f"Person {p:05d}", department=department_of(p),
                  password=no_password) for p in range(PEOPLE)),
            batch_size=2000,
        )

        # Grants: each person on 5 different systems; one person in 4 has a staff role on the fifth.
        uses = list(PermissibleUse.objects.values_list("pk", flat=True))
        grants, grant_uses = [], []
        for p, person in enumerate(people):
            for k in range(GRANTS_PER_PERSON):
                g = len(grants)
                staff = p % 4 == 0 and k == GRANTS_PER_PERSON - 1
                role = Grant.STAFF_ROLES[(p // 4) % 3] if staff else Role.END_USER
                if p < BIG_PEOPLE:  # provisioned before the validation opened; revoked ones end after sign-off
                    provisioned = noon(big_period) - timedelta(days=rng.uniform(1, HISTORY_DAYS - 150))
                    ended = big_signed_at + timedelta(days=rng.uniform(0.5, 10)) if rng.random() < ENDED_SHARE else None
                else:
                    provisioned = days_ago(rng.uniform(1, HISTORY_DAYS))
                    age = (now - provisioned) / timedelta(days=1)
                    ended = days_ago(rng.uniform(0, min(365, age - 0.5))) if rng.random() < ENDED_SHARE else None
                live = Grant.Status.SUSPENDED if g % 101 == 0 else Grant.Status.ACTIVE
                status = Grant.Status.REMOVED if ended else live
                grants.append(Grant(
                    person=person, department=person.department, system=systems[(p * 7 + k) % SYSTEMS], role=role,
                    status=status, account_name=f"acct-{g:05d}", provisioned_at=provisioned, provisioned_by=itsa,
                    ended_at=ended,
                ))
                first, second = uses[g % len(uses)], uses[(g + 1 + g // 7) % len(uses)]
                grant_uses.append([first, second] if g % 3 == 0 and second != first else [first])
                facts["grants"].append((index_of[person.department_id], provisioned, ended))
        grants = Grant.objects.bulk_create(grants, batch_size=2000)
        through = Grant.permissible_uses.through
        through.objects.bulk_create(
            (through(grant_id=grant.pk, permissibleuse_id=use) for grant, chosen in zip(grants, grant_uses)
             for use in chosen),
            batch_size=5000,
        )

        # Access requests: the one that made each grant, some returned or declined before it, and
        # the removals that ended grants.
        requests, removal_of = [], {}

        def add_request(about, action, status, submitted, decided=None, processed=None, **fields):
            n = len(requests)
            text = f"Written request AR-B-{n:07d}: {action} {about.account_name} on system {about.system_id}."
            head = heads[index_of[about.department_id]]
            requests.append(AccessRequest(
                reference=f"AR-B-{n:07d}", department_id=about.department_id, person_id=about.person_id,
                system_id=about.system_id, action=action, role=about.role, justification="Bench request.",
                written_text=text, written_sha256=_sha256(text), status=status, requested_by=head,
                submitted_at=submitted, approved_by=head if decided else None, approved_at=decided,
                processed_by=itsa if processed else None, processed_at=processed, **fields,
            ))
            facts["requests"].append((index_of[about.department_id], submitted))
            return n

        for g, grant in enumerate(grants):
            provisioned = grant.provisioned_at
            lead = rng.uniform(1, 30)
            submitted = provisioned - timedelta(days=lead)
            if rng.random() < RETURNED_SHARE:
                earlier = submitted - timedelta(days=rng.uniform(5, 30))
                add_request(grant, Action.ADD, Status.RETURNED, earlier, earlier + timedelta(days=1),
                            earlier + timedelta(days=2), return_reason="The account name is already taken.")
            if rng.random() < DECLINED_SHARE:
                earlier = submitted - timedelta(days=rng.uniform(5, 30))
                add_request(grant, Action.ADD, Status.DECLINED, earlier, earlier + timedelta(days=1),
                            head_reason="The duties do not call for this system.")
            add_request(grant, Action.ADD, Status.COMPLETED, submitted,
                        submitted + timedelta(days=lead * rng.uniform(0.1, 0.6)), provisioned,
                        grant=grant, account_name=grant.account_name)
            if grant.ended_at is None:
                continue
            if grant.department_id == departments[0].pk:  # revoked in the validation: its follow-up
                removal_of[g] = add_request(grant, Action.REMOVE, Status.COMPLETED, big_signed_at, big_signed_at,
                                            grant.ended_at, grant=grant)
            elif rng.random() < REMOVAL_SHARE:
                asked = max(provisioned, grant.ended_at - timedelta(days=rng.uniform(0.2, 5)))
                add_request(grant, Action.REMOVE, Status.COMPLETED, asked, asked + (grant.ended_at - asked) / 2,
                            grant.ended_at, grant=grant)
        requests = AccessRequest.objects.bulk_create(requests, batch_size=2000)

        # Annual validations: the one due in the last year and the one a year before, per department.
        def signed_on(due: date, may_be_open: bool) -> date | None:
            draw = rng.random()
            if may_be_open and draw < NOT_SIGNED_OFF_SHARE:
                return None
            if draw < NOT_SIGNED_OFF_SHARE + LATE_SHARE and due + timedelta(days=20) < today:
                return due + timedelta(days=rng.randint(1, 20))
            return due - timedelta(days=rng.randint(0, 20))

        validations = []

        def annual(d: int, period: date, due: date, signed: date | None, completed: datetime | None = None):
            signed_at = noon(signed) if signed else None
            validations.append(Validation(
                kind=Validation.Kind.ANNUAL, department=departments[d], period=period, due_date=due,
                status=Validation.Status.COMPLETE if signed else Validation.Status.OPEN,
                signed_off_by=heads[d] if signed else None, signed_off_at=signed_at,
                sign_off_statement="I have reviewed every access of the department listed here." if signed else "",
                completed_at=completed or signed_at,
            ))
            facts["validations"].append((d, due, signed))

        for d in range(DEPARTMENTS):
            if d == 0:
                due = big_due
                annual(0, big_period, big_due, big_signed_at.date(), completed=big_signed_at + timedelta(days=11))
            else:
                due = today - timedelta(days=rng.randint(1, 360))
                annual(d, due - timedelta(days=30), due, signed_on(due, may_be_open=True))
            before = due - timedelta(days=365)
            annual(d, before - timedelta(days=30), before, signed_on(before, may_be_open=False))
        validations = Validation.objects.bulk_create(validations)
        big_validation = validations[0]

        items, decisions = [], {"keep": 0, "revoke": 0}
        for g in range(BIG_GRANTS):
            grant = grants[g]
            revoke = grant.ended_at is not None
            decisions["revoke" if revoke else "keep"] += 1
            items.append(ValidationItem(
                validation=big_validation, grant=grant,
                decision=ValidationItem.Decision.REVOKE if revoke else ValidationItem.Decision.KEEP,
                reason=rng.choice(REVOKE_REASONS) if revoke else "", decided_by=heads[0],
                decided_at=noon(big_period) + timedelta(days=rng.uniform(1, 19)),
                follow_up=requests[removal_of[g]] if revoke else None,
            ))
        ValidationItem.objects.bulk_create(items, batch_size=2000)

        findings = []
        stages, resolutions = list(SodFinding.Stage.values), list(SodFinding.Resolution.values)
        for n, person in enumerate(rng.sample(people, SOD_FINDINGS)):
            found = days_ago(rng.uniform(0, HISTORY_DAYS))
            resolution = resolutions[n % len(resolutions)]
            resolved = resolution == SodFinding.Resolution.RESOLVED
            findings.append(SodFinding(
                person=person, system=systems[rng.randrange(SYSTEMS)], department=person.department,
                stage=stages[n % len(stages)], detail="Holds an end-user and an administrator role on the system.",
                found_at=found, resolution=resolution,
                resolved_at=min(now, found + timedelta(days=3)) if resolved else None,
            ))
            facts["sod_findings"].append((index_of[person.department_id], found))
        SodFinding.objects.bulk_create(findings)

    # Fresh planner statistics, as a city's long-lived tables would have.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    build = {
        "seconds": perf_counter() - started,
        "departments": len(departments),
        "systems": len(systems),
        "people": len(people) + len(heads) + 1,
        "grants": len(grants),
        "grants_in_department_000": sum(1 for grant in grants if grant.department_id == departments[0].pk),
        "grants_ended": sum(1 for grant in grants if grant.ended_at),
        "grants_with_a_staff_role": sum(1 for grant in grants if grant.role in Grant.STAFF_ROLES),
        "permissible_use_links": through.objects.count(),
        "access_requests": len(requests),
        "access_requests_by_status": {
            status: sum(1 for r in requests if r.status == status)
            for status in (Status.COMPLETED, Status.RETURNED, Status.DECLINED)
        },
        "validations": len(validations),
        "sod_findings": len(findings),
        "big_validation": {
            "pk": big_validation.pk, "department_pk": departments[0].pk, "items": len(items), **decisions,
        },
    }
    return build, facts


# --- What the figures should be, counted from the build ----------------------------------------

def expected_figures(facts: dict, start: date, end: date, department: int | None, *, public: bool) -> dict:
    """The summary figures of a report of the period, counted from the rows the build wrote."""
    from django.conf import settings

    from reports import metrics

    zone = ZoneInfo(settings.TIME_ZONE)
    start_at = datetime.combine(start, time.min, tzinfo=zone)
    end_at = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)

    def ours(d: int) -> bool:
        return department is None or d == department

    grants = [(provisioned, ended) for d, provisioned, ended in facts["grants"] if ours(d)]
    due = [(due, signed) for d, due, signed in facts["validations"] if ours(d) and start <= due <= end]
    figures = {
        metrics.GRANTS_TOTAL: sum(1 for provisioned, ended in grants
                                  if provisioned < end_at and (ended is None or ended >= end_at)),
        metrics.REQUESTS_FILED: sum(1 for d, submitted in facts["requests"]
                                    if ours(d) and start_at <= submitted < end_at),
        metrics.VALIDATIONS_DUE: len(due),
        metrics.VALIDATIONS_ON_TIME: sum(1 for day, signed in due if signed and signed <= day),
        metrics.VALIDATIONS_LATE: sum(1 for day, signed in due if signed and signed > day),
        metrics.VALIDATIONS_NOT_SIGNED_OFF: sum(1 for _, signed in due if signed is None),
        metrics.REVOCATIONS: sum(1 for _, ended in grants if ended and start_at <= ended < end_at),
        metrics.SOD_FINDINGS: sum(1 for d, found in facts["sod_findings"] if ours(d) and start_at <= found < end_at),
    }
    if public:  # the public report shows 1 to 4 as "fewer than 5"
        figures = {label: None if value and value < metrics.SUPPRESS_BELOW else value
                   for label, value in figures.items()}
    return figures


def plan(build: dict, facts: dict) -> list[dict]:
    from django.utils import timezone

    from reports.metrics import Period

    today = timezone.localdate()
    last_year = Period.year(today.year - 1)
    last_half = Period.half(today.year, 1) if today.month >= 7 else Period.half(today.year - 1, 2)
    big = build["big_validation"]

    def report(name, how, kind, period, department):
        return {
            "name": name, "how": how, "kind": kind, "department": big["department_pk"] if department else None,
            "period": [period.start.isoformat(), period.end.isoformat()], "period_label": period.label,
            "target": REPORT_TARGET_SECONDS,
            "expected": expected_figures(facts, period.start, period.end, 0 if department else None,
                                         public=kind == "city_biannual"),
        }

    return [
        {"name": f"attestation, {big['items']:,} items", "how": "attestation", "validation": big["pk"],
         "target": ATTESTATION_TARGET_SECONDS, "expected": big},
        report(f"annual report of {BIG_DEPARTMENT}, {last_year.label}", "report_tables", "department_annual",
               last_year, department=True),
        report(f"citywide report, {last_half.label}", "report_tables", "city_biannual", last_half, department=False),
        report(f"citywide figures, {last_year.label}", "city_figures", "city_biannual", last_year, department=False),
    ]


# --- The measurement (in a fresh process) ----------------------------------------------------

def _children_cpu_seconds() -> float:
    """CPU time of the finished child processes: here, the ones WeasyPrint rendered in."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _children_max_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def measure(job: dict) -> dict:
    """One document, timed from the first query to the PDF's last byte, then checked."""
    setup_django()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Department
    from reports import metrics
    from audits.documents import attestation_document
    from reports.metrics import Period, city_figures, public_tables
    from audits.models import Validation
    from reports.services import report_document
    from reports.selectors import report_tables
    from audits.selectors import with_progress

    refuse_unless_bench_database()
    backend = local_backend_pid()
    backend_cpu = server_cpu_seconds(backend) if backend else None
    rss_before = max_rss_bytes()
    tables = None
    children_cpu = _children_cpu_seconds()
    started, cpu_started = perf_counter(), cpu_seconds()
    with CaptureQueriesContext(connection) as queries:
        if job["how"] == "attestation":
            # As the view fetches it, less the user's scope.
            validation = with_progress(Validation.objects.all()).select_related(
                "department__head", "system", "opened_by", "signed_off_by",
            ).get(pk=job["validation"])
            figures_done, figure_queries = perf_counter(), len(queries)
            document = attestation_document(validation=validation, seconds=settings.PDF_WORKER_RENDER_SECONDS)
        else:
            period = Period(*(date.fromisoformat(day) for day in job["period"]))
            department = Department.objects.get(pk=job["department"]) if job["department"] else None
            if job["how"] == "city_figures":
                tables = public_tables(city_figures(period=period).tables())
            else:
                tables = report_tables(kind=job["kind"], department=department, period=period)
            figures_done, figure_queries = perf_counter(), len(queries)
            document = report_document(kind=job["kind"], department=department, period=period, tables=tables)
    finished, cpu = perf_counter(), cpu_seconds() - cpu_started
    render_cpu = _children_cpu_seconds() - children_cpu
    if backend_cpu is not None:
        backend_cpu = server_cpu_seconds(backend) - backend_cpu
    sql_seconds = sum(float(query["time"]) for query in queries.captured_queries)

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(document.content))
    text = " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)
    expected = job["expected"]
    if job["how"] == "attestation":
        checks = {
            "PDF names the department": (BIG_DEPARTMENT in text, True),
            "PDF counts the items": (f"Access under review ({expected['items']})" in text, True),
            "PDF lists the last item": (re.search(rf"(^|\s){expected['items']}\. Person", text) is not None, True),
            "PDF is a table": ("Person (account)" in text and "Decided by" in text and "Decided on" in text, True),
            "PDF tallies the keeps": (f"{expected['keep']} keep" in text, True),
            "PDF tallies the revocations": (f"{expected['revoke']} revoke" in text, True),
            "PDF shows the head's sign-off": (f"Signed by Head of {BIG_DEPARTMENT}" in text, True),
        }
    else:
        summary = {row["label"]: row["value"] for row in tables[0]["rows"]}
        checks = {f"figure: {label}": (summary.get(label, "missing"), value) for label, value in expected.items()}
        total = expected[metrics.GRANTS_TOTAL]
        shown = metrics.SUPPRESSED_TEXT if total is None else f"{total:,}"
        checks[f"PDF shows {metrics.GRANTS_TOTAL} = {shown}"] = (
            re.search(re.escape(metrics.GRANTS_TOTAL) + r"\s+" + re.escape(shown) + r"(\s|$)", text) is not None, True,
        )
        named = BIG_DEPARTMENT if job["department"] else "Citywide report"
        checks[f"PDF names {named!r} and the period"] = (named in text and job["period_label"] in text, True)
    return {
        "name": job["name"],
        "seconds": finished - started,
        "figures_seconds": figures_done - started,
        "pdf_seconds": finished - figures_done,
        "figure_queries": figure_queries,
        "queries": len(queries),
        "sql_seconds": sql_seconds,
        "cpu_seconds": cpu,
        "render_cpu_seconds": render_cpu,
        "postgresql_cpu_seconds": backend_cpu,
        "max_rss_before_bytes": rss_before,
        "max_rss_after_bytes": max_rss_bytes(),
        "render_max_rss_bytes": _children_max_rss_bytes(),
        "pages": len(reader.pages),
        "bytes": len(document.content),
        "target": job["target"],
        "checks": {name: {"got": got, "expected": want, "ok": got == want} for name, (got, want) in checks.items()},
    }


# --- Report -----------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    args = parser.parse_args()

    # A slow render is measured, not stopped (portal.pdf stops one after PDF_RENDER_SECONDS).
    os.environ.setdefault("PDF_RENDER_SECONDS", "120")
    # As in validations.py: measuring processes forked from a server started while this one is small.
    multiprocessing.forkserver.ensure_running()
    setup_django()
    from django.conf import settings
    from django.db import connection

    database = refuse_unless_bench_database()
    version = connection.pg_version
    print(f"Database {database} on PostgreSQL {version // 10000}.{version % 100}; {os.cpu_count()} CPUs "
          f"({cpu_model()}); "
          f"Python {platform.python_version()}; load average {load_average()}; "
          f"PDF_RENDER_SECONDS={settings.PDF_RENDER_SECONDS:g}.")
    print("Wiping and migrating the bench database...", flush=True)
    wipe_seconds = wipe_and_migrate()
    print(f"  {wipe_seconds:.1f} s")
    print("Building the city with bulk_create...", flush=True)
    build, facts = build_city()
    big = build["big_validation"]
    print(f"  {build['seconds']:.1f} s: {build['departments']} departments, {build['systems']} systems, "
          f"{build['people']:,} people, {build['grants']:,} grants ({build['grants_ended']:,} ended, "
          f"{build['grants_with_a_staff_role']:,} with a staff role, "
          f"{build['permissible_use_links']:,} permissible-use links), {build['access_requests']:,} access requests, "
          f"{build['validations']} annual validations, "
          f"{build['sod_findings']} separation-of-duties findings; {BIG_DEPARTMENT}: "
          f"{build['grants_in_department_000']:,} grants, a validation of {big['items']:,} items "
          f"({big['keep']:,} keep, {big['revoke']:,} revoke)")
    jobs = plan(build, facts)
    connection.close()

    results = []
    load_before = load_average()
    for job in jobs:
        print(f"Measuring the {job['name']} (fresh process)...", flush=True)
        results.append(measure_in_fresh_process(job, measure))
    load_after = load_average()

    print()
    print(f"{'document':<40} {'wall':>8} {'figures':>8} {'PDF':>8} {'queries':>8} {'SQL':>7} {'CPU':>7} "
          f"{'render CPU':>10} {'PG CPU':>7} {'pages':>6} {'size':>9}")
    for row in results:
        server = "—" if row["postgresql_cpu_seconds"] is None else f"{row['postgresql_cpu_seconds']:.2f} s"
        print(f"{row['name']:<40} {row['seconds']:>6.2f} s {row['figures_seconds']:>6.2f} s "
              f"{row['pdf_seconds']:>6.2f} s {row['figure_queries']:>3} / {row['queries']:<2} "
              f"{row['sql_seconds']:>5.2f} s {row['cpu_seconds']:>5.2f} s "
              f"{row['render_cpu_seconds']:>8.2f} s {server:>7} {row['pages']:>6} {row['bytes'] / 1024:>6.0f} KB")
    print("  wall: time.perf_counter from the first query to the PDF's last byte; figures: the part before the")
    print("  PDF (for the attestation, fetching the validation as its view does); PDF: report_document() or")
    print("  attestation_document(), template and WeasyPrint; queries: SQL statements for the figures / in all;")
    print("  SQL: their time as the driver saw it; CPU: user + system of the measuring process; render CPU: of the")
    print("  child WeasyPrint renders in; PG CPU: of the PostgreSQL backend (when local).")
    process_peaks = ", ".join(f"{row['max_rss_after_bytes'] / MB:.0f} MB" for row in results)
    render_peaks = ", ".join(f"{row['render_max_rss_bytes'] / MB:.0f} MB" for row in results)
    print(f"  Peak RSS of the measuring process: {process_peaks}; of the render child: {render_peaks}.")
    print(f"  Load average (1, 5, 15 min) before the measurements: {load_before}; after: {load_after}.")

    print()
    all_ok = True
    for row in results:
        for name, check in row["checks"].items():
            all_ok &= check["ok"]
            mark = "ok  " if check["ok"] else "FAIL"
            print(f"{mark} {row['name']}: {name}: {check['got']} (expected {check['expected']})")

    print()
    targets = {}
    for row in results:
        met = row["seconds"] <= row["target"]
        targets[row["name"]] = {"measured": row["seconds"], "target": row["target"], "ok": met}
        print(f"Target ≤ {row['target']:.0f} s for the {row['name']}: {row['seconds']:.2f} s — "
              f"{'met' if met else 'MISSED'}")

    if args.json:
        report = {
            "database": database,
            "cpus": os.cpu_count(),
            "cpu_model": cpu_model(),
            "python": platform.python_version(),
            "load_average_before": load_before,
            "load_average_after": load_after,
            "pdf_render_seconds": settings.PDF_RENDER_SECONDS,
            "wipe_and_migrate_seconds": wipe_seconds,
            "build": build,
            "measurements": results,
            "targets": targets,
        }
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
        print(f"Figures written to {args.json}.")
    if not all_ok:
        return 1
    return 0 if all(target["ok"] for target in targets.values()) else 2


if __name__ == "__main__":
    sys.exit(main())
