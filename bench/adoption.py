"""Benchmark: importing a whole city with `manage.py import_city` (the adoption import).

Writes, in a temporary directory, the four CSV files of a city of 100 departments (each with a
head), 60 systems, 20,000 people and 60,000 accounts (three a person, on three different systems:
end-user accounts with Table 1 permissible uses, and one person in a hundred an administrator on
their third system instead), into an empty portal that has only an ITSA administrator. Then, each
in a fresh process forked from a server started before the files were written:

  1. the dry run: `adoption.services.import_plan(DIR)`;
  2. the real run: `import_plan(DIR)` then `import_apply(plan, by=ITSA)`, which writes everything in
     one transaction and opens the baseline validations; then checks what it wrote;
  3. the second run: `import_plan(DIR)` again, which must find every row unchanged.

Targets: the real run in at most 120 s wall time and 500 MB peak resident memory on this machine.
It is a measurement, not a test: nothing in the suite runs it.

Run from the project root, against a database of its own (every row in it is deleted):

    DATABASE_URL=postgres://postgres@127.0.0.1:54329/portal_bench_adoption python bench/adoption.py [--json FILE]

`--people N --accounts-per-person K` make a smaller (or larger) city; the targets stay the same.

Exit status: 0 when every check passes and both targets are met, 1 when the database is refused or
a check fails, 2 when the checks pass but a target is missed.
"""

import argparse
import csv
import json
import logging
import multiprocessing.forkserver
import os
import platform
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from time import perf_counter

from validations import (
    MB,
    cpu_model,
    cpu_seconds,
    load_average,
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
PEOPLE = 20_000
ACCOUNTS_PER_PERSON = 3
STAFF_EVERY = 100  # one person in a hundred is an administrator of their last system, not its end user
ENDS_ON_EVERY = 20  # one account in twenty is temporary

TARGET_SECONDS = 120.0
TARGET_MB = 500.0
ITSA_EMAIL = "itsa@bench.example"


# --- The city's files ---------------------------------------------------------------------------

def write_files(directory: Path, *, people: int, per_person: int, use_codes: list[str]) -> dict:
    """The four CSV files, as a city's HR roster and its systems' account lists would give them."""
    from django.utils import timezone

    started = perf_counter()
    ends_on = (timezone.localdate() + timedelta(days=180)).isoformat()

    def department(n: int) -> str:
        return f"dept-{n % DEPARTMENTS:03d}"

    def table(name, header, rows):
        with (directory / name).open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            writer.writerows(rows)

    # The first person of each department heads it.
    table("departments.csv", ("code", "name", "kind", "head_employee_id"), (
        (department(d), f"Department {d:03d}", "department" if d % 10 else "board",
         f"E{d:06d}" if d < people else "")
        for d in range(DEPARTMENTS)))
    table("people.csv", ("employee_id", "email", "full_name", "title", "department_code", "organization"), (
        (f"E{n:06d}", f"person.{n:06d}@bench.example", f"Person {n:06d}", "Head" if n < DEPARTMENTS else "Officer",
         department(n), "")
        for n in range(people)))
    table("systems.csv", ("code", "name", "kind", "description", "uses_biometrics", "biometric_retention_days",
                          "is_license_plate_reader", "is_third_party", "has_public_feed", "owner_department_code"), (
        (f"sys-{s:02d}", f"System {s:02d}", "vms", f"Cameras of system {s:02d}.", "no", "", "no", "no", "no",
         department(s))
        for s in range(SYSTEMS)))
    step = max(1, SYSTEMS // per_person)
    accounts = staff = temporary = 0

    def account_rows():
        nonlocal accounts, staff, temporary
        for n in range(people):
            for k in range(per_person):
                system = (n + k * step) % SYSTEMS  # distinct systems for one person
                role = "administrator" if n % STAFF_EVERY == 7 and k == per_person - 1 else "end_user"
                uses = [use_codes[(n + k) % len(use_codes)]]
                if (n + k) % 3 == 0:
                    uses.append(use_codes[(n + k + 1) % len(use_codes)])
                accounts += 1
                staff += role != "end_user"
                until = ends_on if accounts % ENDS_ON_EVERY == 0 else ""
                temporary += bool(until)
                name = f"adm.{n:06d}" if role != "end_user" else f"u{n:06d}.{k}"
                yield (f"sys-{system:02d}", f"E{n:06d}", name, role, department(n) if k == 0 else "", ";".join(uses),
                       until)

    table("accounts.csv", ("system_code", "employee_id", "account_name", "role", "department_code",
                           "permissible_uses", "ends_on"), account_rows())
    return {
        "seconds": perf_counter() - started,
        "departments": DEPARTMENTS,
        "systems": SYSTEMS,
        "people": people,
        "accounts": accounts,
        "staff_accounts": staff,
        "temporary_accounts": temporary,
        "bytes": sum((directory / name).stat().st_size for name in
                     ("departments.csv", "people.csv", "systems.csv", "accounts.csv")),
    }


def make_importer() -> None:
    """The ITSA administrator recorded as the importer: in the portal before the import, as at adoption."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import ITSA_GROUP, User
    from accounts.services import role_group

    itsa = User.objects.create(email=ITSA_EMAIL, full_name="Bench ITSA", password=make_password(None))
    itsa.groups.add(role_group(ITSA_GROUP))


# --- The measurement (in a fresh process) ---------------------------------------------------

class Progress:
    """What the command's progress bar is given, with the moment each phase reached its end."""

    def __init__(self):
        self.calls, self.finished_at = 0, None

    def __call__(self, done, total):
        self.calls += 1
        if done == total and self.finished_at is None:
            self.finished_at = perf_counter()


def measure(job: dict) -> dict:
    setup_django()
    # Celery logs each e-mail task it runs in-process: 200 lines that say nothing here.
    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
    from django.conf import settings
    from django.core import mail
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count

    from accounts.models import Department, Grant, User
    from adoption import services
    from adoption.models import AdoptedGrant, ImportBatch
    from adoption.services import CHANGE, CREATE, REFUSED, UNCHANGED, import_apply, import_plan
    from audits.models import Validation, ValidationItem
    from portal.models import AuditEvent

    refuse_unless_bench_database()
    directory, kind = job["directory"], job["kind"]
    importer = User.objects.get(email=ITSA_EMAIL) if kind == "real" else None
    backend = local_backend_pid()
    backend_cpu = server_cpu_seconds(backend) if backend else None
    mail.outbox = []
    rss_before = max_rss_bytes()
    checking, importing = Progress(), Progress()
    # The baseline validations' share of import_apply, timed from outside.
    baseline = services._baseline_validations
    validations_took = []

    def timed_baseline(*args, **kwargs):
        begun = perf_counter()
        try:
            return baseline(*args, **kwargs)
        finally:
            validations_took.append(perf_counter() - begun)

    services._baseline_validations = timed_baseline

    started, cpu_started = perf_counter(), cpu_seconds()
    plan = import_plan(directory, progress=checking)
    planned = perf_counter()
    applied = import_apply(plan, by=importer, progress=importing) if kind == "real" else None
    seconds, cpu = perf_counter() - started, cpu_seconds() - cpu_started
    if backend_cpu is not None:
        backend_cpu = server_cpu_seconds(backend) - backend_cpu
    rss_after = max_rss_bytes()

    people, accounts = job["people"], job["accounts"]
    totals = plan.totals()
    rows = DEPARTMENTS + SYSTEMS + people + accounts
    result = {
        "pass": kind,
        "seconds": seconds,
        "plan_seconds": planned - started,
        "write_seconds": (seconds - (planned - started) - validations_took[0]) if validations_took else None,
        "validations_seconds": validations_took[0] if validations_took else None,
        "progress_complete_before_the_end_seconds": (
            started + seconds - importing.finished_at - validations_took[0]) if validations_took else None,
        "cpu_seconds": cpu,
        "postgresql_cpu_seconds": backend_cpu,
        "max_rss_before_bytes": rss_before,
        "max_rss_after_bytes": rss_after,
        "totals": totals,
        "progress_calls": checking.calls + importing.calls,
    }
    checks = {"rows refused": (totals[REFUSED], 0)}
    if kind == "dry":
        checks["rows to create"] = (totals[CREATE], rows)
        checks["nothing written: grants"] = (Grant.objects.count(), 0)
        checks["nothing written: people besides the importer"] = (User.objects.count(), 1)
    elif kind == "again":
        checks["rows unchanged"] = (totals[UNCHANGED], rows)
        checks["rows to create or change"] = (totals[CREATE] + totals[CHANGE], 0)
    else:
        live = Grant.objects.filter(status__in=Grant.LIVE_STATUSES)
        history = Grant.history.model.objects
        open_validations = Validation.objects.filter(status=Validation.Status.OPEN)
        adopted = AdoptedGrant.objects.filter(batch=applied.batch)
        covered = ValidationItem.objects.filter(validation__status=Validation.Status.OPEN,
                                                grant__in=adopted.values("grant"))
        checks.update({
            "rows created": (totals[CREATE], rows),
            "people with an employee id": (User.objects.exclude(employee_id="").count(), people),
            "people's history rows (at least)": (User.history.filter(history_type="+").count(), people),
            "departments with their head": (Department.objects.filter(head__employee_id__startswith="E").count(),
                                            DEPARTMENTS),
            "live grants": (live.count(), accounts),
            "staff grants": (live.filter(role__in=Grant.STAFF_ROLES).count(), job["staff_accounts"]),
            "temporary grants": (live.exclude(ends_on=None).count(), job["temporary_accounts"]),
            "grants with a permissible use": (
                Grant.permissible_uses.through.objects.values("grant").distinct().count(), accounts),
            "grants with a creation history row": (history.filter(history_type="+").values("id").distinct().count(),
                                                   accounts),
            "grants' history rows with their permissible uses": (
                history.filter(historicalgrant_permissible_uses__isnull=False).values("id").distinct().count(), accounts),
            "AdoptedGrant rows": (adopted.count(), accounts),
            "import batches": (ImportBatch.objects.count(), 1),
            "adoption.import audit events": (AuditEvent.objects.filter(action="adoption.import").count(), 1),
            "departments with an open baseline validation": (
                open_validations.values("department").distinct().count(), DEPARTMENTS),
            "baseline validations returned": (len(applied.validations), DEPARTMENTS),
            "imported grants in an open validation": (covered.values("grant").distinct().count(), accounts),
            "items per validation": (
                sorted(set(open_validations.annotate(n=Count("items")).values_list("n", flat=True))),
                [accounts // DEPARTMENTS]),
        })
        if settings.CELERY_TASK_ALWAYS_EAGER and settings.EMAIL_BACKEND.endswith("locmem.EmailBackend"):
            # Each new head is told of the role (an invitation), then of the validation's opening.
            checks["e-mails sent (the head's role, the validation's opening)"] = (len(mail.outbox), 2 * DEPARTMENTS)
        try:
            call_command("verify_audit_log", stdout=open(os.devnull, "w"))
            intact = True
        except BaseException:  # the command exits 1 on a broken chain
            intact = False
        checks["audit chain intact"] = (intact, True)
    connection.close()
    result["checks"] = {
        name: {"got": got, "expected": expected,
               "ok": got >= expected if name.endswith("(at least)") else got == expected}
        for name, (got, expected) in checks.items()
    }
    return result


# --- Report -----------------------------------------------------------------------------------

def figure(value, unit="s") -> str:
    return "—" if value is None else f"{value:.2f} {unit}"


def mb(value: int | None) -> str:
    return "—" if value is None else f"{value / MB:.1f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    parser.add_argument("--people", type=int, default=PEOPLE, help=f"people in the files ({PEOPLE:,})")
    parser.add_argument("--accounts-per-person", type=int, default=ACCOUNTS_PER_PERSON,
                        help=f"accounts a person, each on another system ({ACCOUNTS_PER_PERSON})")
    args = parser.parse_args()
    if args.people < 1 or not 1 <= args.accounts_per_person <= SYSTEMS:
        parser.error(f"--people must be at least 1 and --accounts-per-person between 1 and {SYSTEMS}.")

    # As in validations.py: measuring processes forked from a server started while this one is small.
    multiprocessing.forkserver.ensure_running()
    os.environ.setdefault("EMAIL_URL", "memorymail://")
    setup_django()
    from django.db import connection

    from portal.models import PermissibleUse

    database = refuse_unless_bench_database()
    version = connection.pg_version
    print(f"Database {database} on PostgreSQL {version // 10000}.{version % 100}; {os.cpu_count()} CPUs "
          f"({cpu_model()}); Python {platform.python_version()}; load average {load_average()}.")
    print("Wiping and migrating the bench database...", flush=True)
    wipe_seconds = wipe_and_migrate()
    make_importer()
    print(f"  {wipe_seconds:.1f} s")
    use_codes = list(PermissibleUse.objects.order_by("code").values_list("code", flat=True))
    connection.close()

    with tempfile.TemporaryDirectory(prefix="city-") as tmp:
        directory = Path(tmp)
        print("Writing the city's files...", flush=True)
        files = write_files(directory, people=args.people, per_person=args.accounts_per_person, use_codes=use_codes)
        print(f"  {files['seconds']:.1f} s: {files['departments']} departments, {files['systems']} systems, "
              f"{files['people']:,} people, {files['accounts']:,} accounts ({files['staff_accounts']} staff, "
              f"{files['temporary_accounts']:,} temporary), {files['bytes'] / MB:.1f} MB of CSV")
        job = {"directory": str(directory), "people": files["people"], "accounts": files["accounts"],
               "staff_accounts": files["staff_accounts"], "temporary_accounts": files["temporary_accounts"]}
        passes = []
        load_before = load_average()
        for kind, what in (("dry", "the dry run (import_plan)"),
                           ("real", "the real run (import_plan + import_apply)"),
                           ("again", "the second run's plan of the same files")):
            print(f"Measuring {what} in a fresh process...", flush=True)
            passes.append(measure_in_fresh_process({**job, "kind": kind}, measure))
        load_after = load_average()

    print()
    print(f"{'pass':<6} {'wall time':>10} {'plan':>9} {'write':>9} {'validations':>12} {'CPU time':>10} "
          f"{'PostgreSQL CPU':>15} {'max RSS before → after':>24}")
    for row in passes:
        rss = f"{mb(row['max_rss_before_bytes'])} → {mb(row['max_rss_after_bytes'])}"
        print(f"{row['pass']:<6} {row['seconds']:>8.2f} s {row['plan_seconds']:>7.2f} s "
              f"{figure(row['write_seconds']):>9} {figure(row['validations_seconds']):>12} "
              f"{row['cpu_seconds']:>8.2f} s {figure(row['postgresql_cpu_seconds']):>15} {rss:>24}")
    print("  wall time: time.perf_counter around import_plan (+ import_apply for the real run); plan: import_plan;")
    print("  write: import_apply but the baseline validations; validations: _baseline_validations, the opening of")
    print("  the departments' validations; CPU time: user + system of the measuring process; PostgreSQL CPU: the")
    print("  same for its database backend (server on this machine only); max RSS: ru_maxrss of the process.")
    print(f"  Load average before the passes {load_before}, after {load_after}.")

    print()
    all_ok = True
    for row in passes:
        for name, check in row["checks"].items():
            all_ok &= check["ok"]
            mark = "ok  " if check["ok"] else "FAIL"
            print(f"{mark} {row['pass']:<6} {name}: {check['got']} (expected {check['expected']})")

    real = passes[1]
    peak_mb = real["max_rss_after_bytes"] / MB
    targets = {
        "seconds": {"measured": real["seconds"], "target": TARGET_SECONDS, "ok": real["seconds"] <= TARGET_SECONDS},
        "peak_mb": {"measured": peak_mb, "target": TARGET_MB, "ok": peak_mb <= TARGET_MB},
    }
    print()
    print(f"Target time   ≤ {TARGET_SECONDS:.0f} s:  {real['seconds']:.2f} s wall time (real run) — "
          f"{'met' if targets['seconds']['ok'] else 'MISSED'}")
    print(f"Target memory ≤ {TARGET_MB:.0f} MB: {peak_mb:.1f} MB (the real run's peak RSS) — "
          f"{'met' if targets['peak_mb']['ok'] else 'MISSED'}")

    if args.json:
        report = {
            "database": database,
            "cpus": os.cpu_count(),
            "cpu_model": cpu_model(),
            "python": platform.python_version(),
            "load_average_before": load_before,
            "load_average_after": load_after,
            "wipe_and_migrate_seconds": wipe_seconds,
            "files": files,
            "passes": passes,
            "targets": targets,
        }
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        print(f"Figures written to {args.json}.")
    if not all_ok:
        return 1
    return 0 if all(target["ok"] for target in targets.values()) else 2


if __name__ == "__main__":
    sys.exit(main())
