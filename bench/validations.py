"""Benchmark: open the annual validations of a whole city at once (issue 3).

Builds a city of 100 departments, 60 systems and 20,000 live end-user grants (200 a department,
each with a permissible use) on PostgreSQL, then times `audits.services.open_due_validations()`
and measures its memory. Targets: at most 10 s and 300 MB peak on a 2-core machine, with history
rows written. It is a measurement, not a test: nothing in the suite runs it.

Run from the project root, against a database of its own (every row in it is deleted):

    DATABASE_URL=postgres://postgres@127.0.0.1:54329/portal_bench python bench/validations.py [--json FILE]

The opening is measured twice, each time in a fresh process (forked from a server started before the
build), so the memory the build used does not hide the opening's own peak:
  1. "timed": no tracing; wall time (time.perf_counter), the CPU time of the process and of its
     PostgreSQL backend (when local), and the process's peak resident set size
     (resource.getrusage(RUSAGE_SELF).ru_maxrss, read before and after the call);
  2. "traced": the same run under tracemalloc, for the peak of memory allocated by Python.
     tracemalloc slows Python down, so this pass's time is not the one compared to the target.
Between the passes the validation tables are emptied, so both open the same 100 validations.

Exit status: 0 when every check passes and both targets are met, 1 when the database is refused or
a check fails (wrong counts, missing history), 2 when the checks pass but a target is missed.
"""

import argparse
import json
import multiprocessing
import multiprocessing.forkserver
import os
import platform
import queue
import resource
import sys
import traceback
import tracemalloc
from contextlib import contextmanager
from pathlib import Path
from time import perf_counter

ROOT = Path(__file__).resolve().parent.parent

DEPARTMENTS = 100
SYSTEMS = 60
PEOPLE_PER_DEPARTMENT = 40
SYSTEMS_PER_PERSON = 5  # 40 people x 5 systems = 200 grants a department
GRANTS = DEPARTMENTS * PEOPLE_PER_DEPARTMENT * SYSTEMS_PER_PERSON

TARGET_SECONDS = 10.0
TARGET_MB = 300.0
MB = 1024 * 1024


def setup_django() -> None:
    """Settings of the portal; mail goes to memory, so the run prints no 100 messages and needs no server."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("EMAIL_URL", "memorymail://")
    import django

    django.setup()


def refuse_unless_bench_database() -> str:
    from django.db import connection

    name = str(connection.settings_dict.get("NAME") or "")
    if connection.vendor != "postgresql" or "bench" not in name:
        sys.exit(
            "Refusing to run: this benchmark deletes every row of its database. Point DATABASE_URL at a "
            "PostgreSQL database whose name contains \"bench\", e.g. "
            "DATABASE_URL=postgres://postgres@127.0.0.1:54329/portal_bench "
            f"(now: {connection.vendor} database {name!r})."
        )
    return name


def cpu_seconds() -> float:
    """CPU time of this process (user + system): on a busy machine, the share of the wall time it got."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def local_backend_pid() -> int | None:
    """The pid of this connection's PostgreSQL backend when the server is on this machine, else None."""
    from django.db import connection

    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), inet_server_addr() IN ('127.0.0.1', '::1') "
                       "OR inet_server_addr() IS NULL")
        backend, local = cursor.fetchone()
    return backend if local else None


def server_cpu_seconds(pid: int) -> float | None:
    """CPU time of this connection's PostgreSQL backend, when the server runs on this machine."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    if "postgres" not in stat.split(")", 1)[0]:  # a server elsewhere (a container): not its process
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def max_rss_bytes() -> int:
    """The process's peak resident set size so far (Linux reports kilobytes, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


# --- The city ---------------------------------------------------------------------------------

def wipe_and_migrate() -> float:
    from django.core.management import call_command

    from accounts.models import CITY_ROLE_GROUPS
    from accounts.services import role_group
    from portal.models import IntendedUse, PermissibleUse
    from portal.table1 import load_table_1

    started = perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    with as_replica():
        call_command("flush", interactive=False, verbosity=0)
    # flush also empties what the data migrations wrote.
    load_table_1(IntendedUse, PermissibleUse)
    for name in CITY_ROLE_GROUPS:
        role_group(name)
    return perf_counter() - started


def build_city() -> dict:
    """Rows straight into the tables (bulk_create): the services are what the benchmark measures."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import ITSA_GROUP, Department, Grant, SurveillanceSystem, User
    from accounts.services import role_group
    from portal.models import PermissibleUse

    started = perf_counter()
    no_password = make_password(None)
    now = timezone.now()
    with transaction.atomic():
        itsa = User.objects.create(email="itsa@bench.example", full_name="Bench ITSA", password=no_password)
        itsa.groups.add(role_group(ITSA_GROUP))
        departments = Department.objects.bulk_create(
            Department(name=f"Department {n:03d}", code=f"dept-{n:03d}") for n in range(DEPARTMENTS)
        )
        systems = SurveillanceSystem.objects.bulk_create(
            SurveillanceSystem(name=f"System {n:02d}", code=f"system-{n:02d}", owner=departments[n % DEPARTMENTS])
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
        people = User.objects.bulk_create(
            (User(email=f"person.{n:02d}.{d.code}@bench.example", full_name=f"Person {n:02d} of {d.name}",
                  department=d, password=no_password)
             for d in departments for n in range(PEOPLE_PER_DEPARTMENT)),
            batch_size=2000,
        )
        grants = Grant.objects.bulk_create(
            (Grant(person=person, department=person.department, role=Grant.Role.END_USER,
                   status=Grant.Status.ACTIVE, system=systems[(index * 7 + k) % SYSTEMS],
                   account_name=f"acct-{index:05d}-{k}", provisioned_at=now, provisioned_by=itsa)
             for index, person in enumerate(people) for k in range(SYSTEMS_PER_PERSON)),
            batch_size=2000,
        )
        uses = list(PermissibleUse.objects.values_list("pk", flat=True))
        through = Grant.permissible_uses.through
        through.objects.bulk_create(
            (through(grant_id=grant.pk, permissibleuse_id=uses[index % len(uses)])
             for index, grant in enumerate(grants)),
            batch_size=5000,
        )
    # Fresh planner statistics, as a city's long-lived tables would have.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "seconds": perf_counter() - started,
        "departments": len(departments),
        "systems": len(systems),
        "people": len(heads) + len(people) + 1,
        "grants": len(grants),
        "grants_with_a_permissible_use": through.objects.values("grant").distinct().count(),
    }


def empty_validations() -> None:
    """Between the passes: no validation, item, reminder or history of them (no other table points here)."""
    from django.db import connection

    from audits.models import ReminderSent, Validation, ValidationItem

    models = (ReminderSent, ValidationItem, Validation, ValidationItem.history.model, Validation.history.model)
    with as_replica(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE " + ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models))


@contextmanager
def as_replica():
    """The history tables refuse TRUNCATE (portal migration 0009): the bench database's superuser
    empties them with the triggers off, as a replica."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = origin")


# --- The measurement (in a fresh process) ----------------------------------------------------

def measure(trace: bool) -> dict:
    setup_django()
    from django.conf import settings
    from django.core import mail
    from django.db.models import Count

    from audits.models import Validation, ValidationItem
    from audits.services import open_due_validations

    refuse_unless_bench_database()
    backend = local_backend_pid()
    backend_cpu = server_cpu_seconds(backend) if backend else None
    mail.outbox = []
    rss_before = max_rss_bytes()
    if trace:
        tracemalloc.start()
    started, cpu_started = perf_counter(), cpu_seconds()
    opened = open_due_validations()
    seconds, cpu = perf_counter() - started, cpu_seconds() - cpu_started
    if backend_cpu is not None:
        backend_cpu = server_cpu_seconds(backend) - backend_cpu
    traced_peak = tracemalloc.get_traced_memory()[1] if trace else None
    if trace:
        tracemalloc.stop()
    rss_after = max_rss_bytes()

    items_per_validation = set(Validation.objects.annotate(n=Count("items")).values_list("n", flat=True))
    checks = {
        "validations opened": (len(opened), DEPARTMENTS),
        "validations in the database": (Validation.objects.count(), DEPARTMENTS),
        "validation items": (ValidationItem.objects.count(), GRANTS),
        "items per validation": (sorted(items_per_validation), [GRANTS // DEPARTMENTS]),
        "item history rows": (ValidationItem.history.count(), GRANTS),
        "validation history rows (at least)": (Validation.history.count(), DEPARTMENTS),
    }
    if settings.CELERY_TASK_ALWAYS_EAGER and settings.EMAIL_BACKEND.endswith("locmem.EmailBackend"):
        checks["opening e-mails sent"] = (len(mail.outbox), DEPARTMENTS)
    again = open_due_validations()
    checks["a second run opens none"] = (len(again), 0)
    checks["items after the second run"] = (ValidationItem.objects.count(), GRANTS)
    return {
        "pass": "traced" if trace else "timed",
        "tracing": "tracemalloc" if trace else "off",
        "seconds": seconds,
        "cpu_seconds": cpu,
        "postgresql_cpu_seconds": backend_cpu,
        "tracemalloc_peak_bytes": traced_peak,
        "max_rss_before_bytes": rss_before,
        "max_rss_after_bytes": rss_after,
        "checks": {
            name: {"got": got, "expected": expected,
                   "ok": got >= expected if name.endswith("(at least)") else got == expected}
            for name, (got, expected) in checks.items()
        },
    }


def _child(function, argument, results) -> None:
    try:
        results.put(function(argument))
    except BaseException:
        results.put({"error": traceback.format_exc()})
        raise


def measure_in_fresh_process(argument, function=measure) -> dict:
    """`function(argument)` (a dict of figures) in a fresh process forked from the server; other benchmarks reuse it."""
    context = multiprocessing.get_context("forkserver")
    results = context.Queue()
    process = context.Process(target=_child, args=(function, argument, results))
    process.start()
    while True:
        try:
            result = results.get(timeout=1)
            break
        except queue.Empty:
            if not process.is_alive():
                sys.exit(f"The measuring process died (exit status {process.exitcode}).")
    process.join()
    if "error" in result:
        sys.exit(f"The measuring process failed:\n{result['error']}")
    return result


# --- Report -----------------------------------------------------------------------------------

def cpu_model() -> str:
    """The processor's name, for the record of a run."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or "unknown CPU"
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "unknown CPU")


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def mb(value: int | None) -> str:
    return "—" if value is None else f"{value / MB:.1f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    args = parser.parse_args()

    # Linux carries a process's peak RSS over fork and exec: the measuring processes are forked from
    # a server started now, while this process is small, not after the build made it large.
    multiprocessing.forkserver.ensure_running()
    setup_django()
    from django.db import connection

    database = refuse_unless_bench_database()
    version = connection.pg_version
    print(f"Database {database} on PostgreSQL {version // 10000}.{version % 100}; "
          f"{os.cpu_count()} CPUs; Python {platform.python_version()}.")
    print("Wiping and migrating the bench database...", flush=True)
    wipe_seconds = wipe_and_migrate()
    print(f"  {wipe_seconds:.1f} s")
    print("Building the city with bulk_create...", flush=True)
    build = build_city()
    print(f"  {build['seconds']:.1f} s: {build['departments']} departments, {build['systems']} systems, "
          f"{build['people']} people, {build['grants']} live end-user grants "
          f"({build['grants_with_a_permissible_use']} with a permissible use)")
    connection.close()

    passes = []
    for trace in (False, True):
        if passes:
            empty_validations()
        print(f"Opening every validation ({'under tracemalloc' if trace else 'untraced'}, fresh process)...",
              flush=True)
        passes.append(measure_in_fresh_process(trace))

    print()
    print(f"{'pass':<8} {'wall time':>10} {'CPU time':>10} {'PostgreSQL CPU':>15} {'tracemalloc peak':>17} "
          f"{'max RSS before → after':>24}")
    for row in passes:
        rss = f"{mb(row['max_rss_before_bytes'])} → {mb(row['max_rss_after_bytes'])}"
        server = "—" if row["postgresql_cpu_seconds"] is None else f"{row['postgresql_cpu_seconds']:.2f} s"
        print(f"{row['pass']:<8} {row['seconds']:>8.2f} s {row['cpu_seconds']:>8.2f} s {server:>15} "
              f"{mb(row['tracemalloc_peak_bytes']):>17} {rss:>24}")
    print("  Each figure is for the call open_due_validations() alone. wall time: time.perf_counter; CPU time:")
    print("  user + system of the measuring process; PostgreSQL CPU: the same for its database backend (only")
    print("  when the server runs on this machine); tracemalloc peak: Python allocations during the call;")
    print("  max RSS: resource.getrusage(RUSAGE_SELF).ru_maxrss, the measuring process's peak resident set size.")

    print()
    all_ok = True
    for row in passes:
        for name, check in row["checks"].items():
            all_ok &= check["ok"]
            mark = "ok  " if check["ok"] else "FAIL"
            print(f"{mark} {row['pass']:<7} {name}: {check['got']} (expected {check['expected']})")

    timed, traced = passes
    peak_mb = max(timed["max_rss_after_bytes"], traced["tracemalloc_peak_bytes"]) / MB
    targets = {
        "seconds": {"measured": timed["seconds"], "target": TARGET_SECONDS, "ok": timed["seconds"] <= TARGET_SECONDS},
        "peak_mb": {"measured": peak_mb, "target": TARGET_MB, "ok": peak_mb <= TARGET_MB},
    }
    print()
    print(f"Target time   ≤ {TARGET_SECONDS:.0f} s:  {timed['seconds']:.2f} s wall time (timed pass) — "
          f"{'met' if targets['seconds']['ok'] else 'MISSED'}")
    print(f"Target memory ≤ {TARGET_MB:.0f} MB: {peak_mb:.1f} MB (the larger of the timed pass's peak RSS and the "
          f"tracemalloc peak) — {'met' if targets['peak_mb']['ok'] else 'MISSED'}")

    if args.json:
        report = {
            "database": database,
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "wipe_and_migrate_seconds": wipe_seconds,
            "build": build,
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
