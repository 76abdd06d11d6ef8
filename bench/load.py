"""Benchmark: every main page under load, beside the machine's own ceiling (issue 7).

Starts the portal under gunicorn with production settings (DJANGO_ENV=production) on a PostgreSQL
database that already holds a city (`bench/seed_scale.py`, or `manage.py seed_demo` for a small one) and
measures, one page after the other, at 16 concurrent clients for a fixed time each:

  - a baseline page that runs one trivial query (`SELECT 1`), routed only because this script sets
    BENCH_BASELINE=1: the ceiling of the machine for a Django page;
  - the head's dashboard, the request list with a search, a request page, a person page, the ITSA
    queue, a validation page and the public report page.

Each client is a keep-alive HTTP connection sending requests one after another for `--seconds`;
every latency is kept. The table gives requests per second, the median and 99th-percentile latency,
the errors, the SQL queries the page runs (counted once per page in this process with Django's test
client, against the same database), the CPU time a request costs in the gunicorn workers and in
PostgreSQL, and each page's throughput as a share of the baseline's and of the signed-in floor's (the
layout alone, as the head). Targets: p99 at most 150 ms, at least 10 % of the baseline's throughput,
no error, and the same number of queries for a small object as for the largest (and, with
--compare-database-url, in a city of another size); the signed-in floor at 40 % or more of the
baseline's throughput.

Then, each in a fresh process with gunicorn stopped: opening the yearly validations of the whole
city (in one transaction rolled back at the end, so the city is left as it was) and rendering the
attestation PDF of the largest validation.

Run from the project root (or through bench/run):

    DATABASE_URL=postgres://postgres@127.0.0.1:54329/portal_bench_run python bench/load.py [--json FILE]

The database is not wiped: the script adds two sessions (and an authenticator for a head or ITSA
administrator who has none), removed at the end, and publishes a citywide report if none is public.

With --crawl, only the crawl of every page reachable by links and forms runs (bench/crawl.py: no
gunicorn, no load): CPU per request, queries and HTML size of each page as four roles, against 50 ms
and 200 KB.

Exit status: 0 when every target is met, 1 when the database is refused or a page fails, 2 when a
target is missed.
"""

import argparse
import http.client
import json
import math
import multiprocessing
import multiprocessing.forkserver
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import crawl  # noqa: E402
from validations import (  # noqa: E402
    cpu_model,
    load_average,
    MB,
    cpu_seconds,
    local_backend_pid,
    max_rss_bytes,
    measure_in_fresh_process,
    server_cpu_seconds,
    setup_django,
)

CLIENTS = 16
SECONDS = 20.0
WARMUP_SECONDS = 2.0
TARGET_P99_MS = 150.0
TARGET_SHARE = 0.10  # of the baseline's throughput, for every measured page
# The signed-in floor against the baseline: what the session, the person and the layout may cost.
FLOOR_TARGET_SHARE = 0.40
# Reference figures of issues 3 and 4 (the attestation's restated in issue 21: a table, made on the worker).
OPENING_REFERENCE_SECONDS = 10.0
ATTESTATION_REFERENCE_SECONDS = 30.0
BASELINE_PATH = "/bench/baseline"
# The layout of a signed-in page with no data of its own: what every signed-in page pays at least.
FLOOR_PATH = "/bench/signed-in"
CLIENT_TIMEOUT = 60.0  # seconds a client waits for an answer before counting an error (gunicorn's timeout too)
HOST = "127.0.0.1"
# Behind the city's proxy the portal sees HTTPS; without this header production redirects to it.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


@dataclass
class Page:
    key: str
    title: str
    path: str
    who: int | None  # the signed-in person's pk, None for an anonymous visitor
    about: str = ""
    # The same page for a small object (fewest grants, fewest items...): its query count must not differ.
    small_path: str | None = None
    small_who: int | None = None
    small_about: str = ""
    figures: dict = field(default_factory=dict)


# --- Environment ------------------------------------------------------------------------------

def production_environment(database_url: str) -> dict:
    """The variables the portal needs in production, plus the benchmark's own (set for this process
    and passed to gunicorn, so both see the same secret key and database)."""
    key = os.environ.get("DJANGO_SECRET_KEY")
    dev_key = ROOT / "var" / "secret_key"
    if not key and dev_key.exists():
        # The key the city was probably built with: the audit trail's hash chain stays verifiable
        # when the benchmark publishes a report.
        key = dev_key.read_text().strip()
    return {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": key or secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": f"{HOST},localhost,testserver",
        "PORTAL_BASE_URL": f"https://{HOST}",
        "DATABASE_URL": database_url,
        "EMAIL_URL": "memorymail://",
        "BENCH_BASELINE": "1",
        "PDF_RENDER_SECONDS": os.environ.get("PDF_RENDER_SECONDS", "120"),
    }


def refuse_unless_postgresql() -> str:
    from django.db import connection

    name = str(connection.settings_dict.get("NAME") or "")
    if connection.vendor != "postgresql":
        sys.exit(f"Refusing to run: the benchmark measures the portal on PostgreSQL (now: {connection.vendor}). "
                 "Set DATABASE_URL or --database-url to a PostgreSQL database holding a city.")
    if "bench" not in name:
        sys.exit(f"Refusing to run: the benchmark signs people in and writes to its database; use one whose name "
                 f"contains \"bench\" (now: {name!r}).")
    return name


# --- The city and the pages -------------------------------------------------------------------

def city_counts() -> dict:
    from access_requests.models import AccessRequest
    from accounts.models import Department, Grant, User
    from audits.models import Validation, ValidationItem

    return {
        "departments": Department.objects.count(),
        "people": User.objects.count(),
        "grants": Grant.objects.count(),
        "live_grants": Grant.objects.filter(status__in=Grant.LIVE_STATUSES).count(),
        "access_requests": AccessRequest.objects.count(),
        "validations": Validation.objects.count(),
        "validation_items": ValidationItem.objects.count(),
    }


def _itsa():
    from accounts.models import ITSA_GROUP, User

    return User.objects.filter(groups__name=ITSA_GROUP, is_active=True).order_by("pk").first()


def publish_report_if_none() -> str | None:
    """The public report page needs a published citywide report; publish the last half-year's if
    none is public (as the Mayor's designee). Returns what was done, or None."""
    from django.utils import timezone

    from accounts.models import DESIGNEE_GROUP, User
    from reports.metrics import Period
    from reports.models import PublishedReport
    from reports.services import report_publish

    if PublishedReport.objects.filter(is_public=True).exists():
        return None
    designee = User.objects.filter(groups__name=DESIGNEE_GROUP, is_active=True).order_by("pk").first()
    if designee is None:
        sys.exit("The database holds no public report and no Mayor's designee to publish one: "
                 "the public report page cannot be measured.")
    today = timezone.localdate()
    # The last half-year that has ended.
    year, half = (today.year, 1) if today.month > 6 else (today.year - 1, 2)
    period = Period.half(year, half)
    report = report_publish(kind=PublishedReport.Kind.CITY_BIANNUAL, period=period, by=designee)
    return f"published “{report.title}” (report {report.pk}, left in the database)"


def pick_pages(search: str | None) -> tuple[list[Page], dict]:
    """The largest objects of the city: the annual validation with the most items, its department's
    head, the person of that department with the most grants, the department's latest request; and
    for each a small one (fewest items, fewest grants, earliest request) to compare query counts."""
    from urllib.parse import urlencode

    from django.db.models import Count
    from django.urls import reverse

    from access_requests.models import AccessRequest
    from accounts.models import Department, Grant, User
    from accounts.selectors import departments_for
    from reports.models import PublishedReport
    from audits.models import Validation

    with_head = Validation.objects.filter(department__head__isnull=False, department__head__is_active=True)
    by_items = with_head.annotate(n=Count("items"))
    validation = by_items.order_by("-n", "-opened_at", "-pk").select_related("department__head").first()
    if validation is None:
        sys.exit("The database holds no validation of a department with a head: build a city first "
                 "(python bench/seed_scale.py, or python manage.py seed_demo for a small one).")
    department = validation.department
    head = department.head
    if not departments_for(head).filter(pk=department.pk).exists():
        sys.exit(f"{head.full_name} heads {department} but holds no permission to act for it: the city was built "
                 "around the services. Give the heads their department permissions first (the nightly task "
                 "accounts.tasks.sync_department_permissions does).")
    # The same kind and status (open, signed off, complete), so that only the number of items differs.
    small_validation = (by_items.filter(kind=validation.kind, status=validation.status).exclude(pk=validation.pk)
                        .order_by("n", "pk").select_related("department").first()) or validation

    people = User.objects.filter(department=department).annotate(
        n=Count("grants", distinct=True)).order_by("-n", "pk")
    person = people.first()
    # The fewest grants, but some: a person with none has no grants table to show at all.
    small_person = people.filter(n__gte=1).order_by("n", "pk").first() or people.order_by("n", "pk").first()

    requests = AccessRequest.objects.filter(department=department)
    # The usual request: completed, with its grant (the same kind in any city, to compare counts).
    latest = (requests.filter(status=AccessRequest.Status.COMPLETED, grant__isnull=False)
              .order_by("-submitted_at", "-pk").first() or requests.order_by("-submitted_at", "-pk").first())
    if latest is None:
        sys.exit(f"{department} has no access request: the request page cannot be measured.")
    # One of the same kind (action, status, with or without a grant), so that only its age differs.
    earliest = requests.filter(action=latest.action, status=latest.status,
                               grant__isnull=latest.grant_id is None).order_by("submitted_at", "pk").first()

    live = Grant.objects.filter(status__in=Grant.LIVE_STATUSES)
    small_department = (Department.objects.filter(head__isnull=False, head__is_active=True)
                        .annotate(n=Count("grants", filter=models_q_live(), distinct=True))
                        .order_by("n", "pk").select_related("head").first())

    itsa = _itsa()
    if itsa is None:
        sys.exit("The database has no active ITSA administrator: the ITSA queue cannot be measured.")
    report = PublishedReport.objects.filter(is_public=True).order_by("-period_end", "-pk").first()

    term = search or (person.full_name.split() or ["a"])[-1]
    list_path = f"{reverse('requests:list')}?{urlencode({'q': term})}"
    pages = [
        Page("dashboard", "Head's dashboard", reverse("home"), head.pk,
             f"{head.full_name}, head of {department} "
             f"({live.filter(department=department).count():,} live grants)",
             reverse("home"), small_department.head_id,
             f"head of {small_department.name} ({small_department.n:,} live grants)"),
        Page("request_list", "Request list, searched", list_path, head.pk,
             f"search “{term}” as the head of {department}",
             f"{reverse('requests:list')}?{urlencode({'q': earliest.reference})}", head.pk,
             f"a search that matches one request, “{earliest.reference}”"),
        Page("request", "Request page", reverse("requests:detail", args=[latest.pk]), head.pk,
             f"{latest.reference} ({latest.get_status_display().lower()}), the latest of {department}",
             reverse("requests:detail", args=[earliest.pk]), head.pk,
             f"{earliest.reference}, the earliest of its kind"),
        Page("person", "Person page", reverse("accounts:person", args=[person.pk]), head.pk,
             f"{person.full_name} ({person.n} grants)",
             reverse("accounts:person", args=[small_person.pk]), head.pk,
             f"{small_person.full_name} ({small_person.n} grants)"),
        Page("queue", "ITSA queue", reverse("requests:queue"), itsa.pk, f"as {itsa.full_name}"),
        Page("validation", "Validation page", reverse("audits:validation", args=[validation.pk]), head.pk,
             f"validation {validation.pk} of {department} ({validation.n:,} items, "
             f"{validation.get_status_display().lower()})",
             reverse("audits:validation", args=[small_validation.pk]), small_validation.department.head_id,
             f"validation {small_validation.pk} ({small_validation.n:,} items)"),
    ]
    if report is not None:
        pages.append(Page("public_report", "Public report page", reverse("transparency:report", args=[report.pk]),
                          None, f"“{report.title}”, anonymous"))
    largest = {"validation": validation.pk, "department": str(department), "items": validation.n}
    return pages, largest


def models_q_live():
    from django.db.models import Q

    from accounts.models import Grant

    return Q(grants__status__in=Grant.LIVE_STATUSES)


# --- Sessions ---------------------------------------------------------------------------------

class Sessions:
    """Signed-in sessions made directly in the session store: the user, the password backend and
    the session hash as django.contrib.auth.login() writes them, the verified second factor as
    django_otp.login() does, and the sign-in times the session policy reads. Removed by close()."""

    def __init__(self):
        self.keys: dict[int, str] = {}
        self.devices: list = []

    def key_for(self, pk: int) -> str:
        if pk not in self.keys:
            self.keys[pk] = self._create(pk)
        return self.keys[pk]

    def _create(self, pk: int) -> str:
        from importlib import import_module

        from django.conf import settings
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from accounts.models import User
        from security.models import UserSession
        from security.services import LOGIN_AT, PASSWORD_AT, SEEN_AT

        user = User.objects.get(pk=pk)
        device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="Benchmark authenticator", confirmed=True)
            self.devices.append(device)
        session = import_module(settings.SESSION_ENGINE).SessionStore()
        now = time.time()
        session[SESSION_KEY] = user._meta.pk.value_to_string(user)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        for name in (LOGIN_AT, PASSWORD_AT, SEEN_AT):
            session[name] = now
        session.save()
        UserSession.objects.create(user=user, session_key=session.session_key, user_agent="bench/load.py")
        return session.session_key

    def close(self) -> None:
        from security.models import UserSession
        from security.services import sessions_forget

        keys = list(self.keys.values())
        sessions_forget(keys)
        UserSession.objects.filter(session_key__in=keys).delete()
        for device in self.devices:
            device.delete()
        self.keys, self.devices = {}, []


# --- Queries per page (in this process) -------------------------------------------------------

def _count(path: str, who: int | None, sessions: Sessions) -> dict:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(headers=PROXY_HEADERS)
    if who is not None:
        client.cookies[settings.SESSION_COOKIE_NAME] = sessions.key_for(who)
    client.get(path, secure=True)  # templates compiled, the session's renewal written
    with CaptureQueriesContext(connection) as captured:
        started = perf_counter()
        response = client.get(path, secure=True)
        seconds = perf_counter() - started
    if response.status_code != 200:
        sys.exit(f"{path} answered {response.status_code} in this process; the benchmark stops.")
    queries = captured.captured_queries
    writes = [q for q in queries if q["sql"].lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    slowest = sorted(queries, key=lambda q: float(q["time"]), reverse=True)[:3]
    return {
        "queries": len(queries),
        "writes": len(writes),
        "sql_ms": 1000 * sum(float(q["time"]) for q in queries),
        "in_process_ms": 1000 * seconds,
        "bytes": len(response.content),
        "slowest": [{"ms": 1000 * float(q["time"]), "sql": q["sql"][:400]} for q in slowest],
    }


def count_queries(pages: list[Page], sessions: Sessions) -> None:
    """Each page once (after one request that warms it up), with Django's test client: the SQL
    statements, the writes among them, their time, and the same for the small object."""
    for page in pages:
        page.figures["count"] = _count(page.path, page.who, sessions)
        if page.small_path:
            page.figures["small_count"] = _count(page.small_path, page.small_who, sessions)


# --- gunicorn ---------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, env: dict, workers: int, threads: int):
        self.port = _free_port()
        self.workers, self.threads = workers, threads
        self.worker_class = "gthread" if threads > 1 else "sync"
        self.log = tempfile.NamedTemporaryFile(prefix="bench-gunicorn-", suffix=".log", delete=False)
        command = [sys.executable, "-m", "gunicorn", "portal.wsgi:application", "--bind", f"{HOST}:{self.port}",
                   "--workers", str(workers), "--worker-class", self.worker_class, "--timeout", "60",
                   "--log-level", "warning"]
        if threads > 1:
            command += ["--threads", str(threads)]
        self.process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                break
            try:
                connection = http.client.HTTPConnection(HOST, self.port, timeout=5)
                connection.request("GET", "/healthz", headers=PROXY_HEADERS)
                if connection.getresponse().status == 200 and len(self.worker_pids()) >= self.workers:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        sys.exit(f"gunicorn did not start:\n{Path(self.log.name).read_text()[-3000:]}")

    def worker_pids(self) -> list[int]:
        return children_of(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def log_tail(self) -> str:
        return Path(self.log.name).read_text()[-3000:]


def children_of(ppid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == ppid:
            pids.append(int(entry.name))
    return pids


def process_cpu(pids) -> dict[int, float]:
    """utime + stime of each process still alive, in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        cpu[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return cpu


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a server: the process, its live children, and the children it has already reaped
    (cutime + cstime), so that short-lived PostgreSQL parallel workers and replaced gunicorn workers
    are counted too. Differences of two readings give the CPU spent in between."""
    ticks = os.sysconf("SC_CLK_TCK")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    own = sum(int(value) for value in fields[11:15]) / ticks  # utime, stime, cutime, cstime
    return own + sum(process_cpu(children_of(pid)).values())


def cpu_spent(before: dict, after: dict) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def postgres_server_pid() -> int | None:
    """The postmaster of the database server when it runs on this machine (the parent of this
    connection's backend), to read the CPU time of all its processes."""
    backend = local_backend_pid()
    if backend is None or server_cpu_seconds(backend) is None:
        return None
    try:
        return int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None


# --- The load ---------------------------------------------------------------------------------

def _client_thread(port: int, path: str, headers: dict, start: float, stop: float, out: dict) -> None:
    latencies, statuses, errors, received = [], {}, {}, 0
    connection = http.client.HTTPConnection(HOST, port, timeout=CLIENT_TIMEOUT)
    while time.time() < start:
        time.sleep(0.001)
    finished = time.time()
    while time.time() < stop:
        began = perf_counter()
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as error:
            kind = type(error).__name__
            errors[kind] = errors.get(kind, 0) + 1
            connection.close()
            connection = http.client.HTTPConnection(HOST, port, timeout=CLIENT_TIMEOUT)
            continue
        latencies.append(perf_counter() - began)
        finished = time.time()
        statuses[response.status] = statuses.get(response.status, 0) + 1
        received += len(body)
    connection.close()
    out.setdefault("results", []).append((latencies, statuses, errors, received, finished))


def _client_process(job: dict) -> dict:
    """`job["threads"]` clients in one process, from `start` to `stop` (wall clock)."""
    cpu_started = cpu_seconds()
    out: dict = {}
    threads = [threading.Thread(target=_client_thread, args=(job["port"], job["path"], job["headers"], job["start"],
                                                             job["stop"], out))
               for _ in range(job["threads"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies, statuses, errors, received, finished = [], {}, {}, 0, job["start"]
    for lat, st, err, rec, fin in out["results"]:
        latencies += lat
        for kind, n in err.items():
            errors[kind] = errors.get(kind, 0) + n
        received += rec
        finished = max(finished, fin)
        for status, n in st.items():
            statuses[status] = statuses.get(status, 0) + n
    return {"latencies": latencies, "statuses": statuses, "errors": errors, "bytes": received,
            "finished": finished, "cpu_seconds": cpu_seconds() - cpu_started}


def run_load(pool, port: int, path: str, headers: dict, clients: int, processes: int, seconds: float) -> dict:
    """`clients` connections spread over `processes` processes, for `seconds`."""
    start = time.time() + 0.3
    stop = start + seconds
    shares = [clients // processes + (1 if n < clients % processes else 0) for n in range(processes)]
    jobs = [{"port": port, "path": path, "headers": headers, "threads": n, "start": start, "stop": stop}
            for n in shares if n]
    parts = pool.map(_client_process, jobs)
    latencies = sorted(lat for part in parts for lat in part["latencies"])
    statuses: dict = {}
    failures: dict = {}
    for part in parts:
        for status, n in part["statuses"].items():
            statuses[status] = statuses.get(status, 0) + n
        for kind, n in part["errors"].items():
            failures[kind] = failures.get(kind, 0) + n
    elapsed = max(part["finished"] for part in parts) - start
    ok = statuses.get(200, 0)
    failed = sum(failures.values()) + sum(n for status, n in statuses.items() if status != 200)
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "requests_per_second": ok / elapsed if elapsed > 0 else 0.0,
        "median_ms": 1000 * statistics.median(latencies) if latencies else None,
        "p99_ms": 1000 * latencies[max(0, math.ceil(0.99 * len(latencies)) - 1)] if latencies else None,
        "max_ms": 1000 * latencies[-1] if latencies else None,
        "errors": failed,
        "statuses": {str(status): n for status, n in sorted(statuses.items())},
        "connection_errors": failures,  # e.g. TimeoutError: no answer within CLIENT_TIMEOUT
        "bytes_per_response": sum(part["bytes"] for part in parts) / len(latencies) if latencies else 0,
        "client_cpu_seconds": sum(part["cpu_seconds"] for part in parts),
    }


def machine_busy_seconds() -> float:
    """CPU time the whole machine spent busy (all CPUs, from /proc/stat), in seconds."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def wait_until_idle(server: Server, limit: float = 180.0) -> float:
    """Until the workers have finished what the last page left them (requests a client gave up on
    are still served), so that it does not weigh on the next page. Returns the seconds waited."""
    started = time.time()
    before = process_cpu(server.worker_pids())
    while time.time() - started < limit:
        time.sleep(0.5)
        after = process_cpu(server.worker_pids())
        if cpu_spent(before, after) < 0.05:
            break
        before = after
    return time.time() - started


def measure_page(pool, server: Server, postmaster: int | None, path: str, cookie: str | None, args) -> dict:
    headers = dict(PROXY_HEADERS)
    if cookie:
        headers["Cookie"] = cookie
    wait_until_idle(server)
    if args.warmup > 0:
        run_load(pool, server.port, path, headers, args.clients, args.client_processes, args.warmup)
        wait_until_idle(server)
    workers = server.worker_pids()
    workers_before = tree_cpu_seconds(server.process.pid)
    postgres_before = tree_cpu_seconds(postmaster) if postmaster else None
    busy_before = machine_busy_seconds()
    result = run_load(pool, server.port, path, headers, args.clients, args.client_processes, args.seconds)
    busy = machine_busy_seconds() - busy_before
    workers_cpu = tree_cpu_seconds(server.process.pid) - workers_before
    postgres_cpu = tree_cpu_seconds(postmaster) - postgres_before if postmaster else None
    # What other processes took from the machine meanwhile (a busy machine makes every figure worse).
    others = busy - workers_cpu - (postgres_cpu or 0.0) - result["client_cpu_seconds"]
    result["other_processes_cpu_share"] = max(0.0, others) / (result["seconds"] * (os.cpu_count() or 1))
    result["worker_restarts"] = len(set(server.worker_pids()) - set(workers))
    done = max(result["requests"], 1)
    result["worker_cpu_ms_per_request"] = 1000 * workers_cpu / done
    result["postgres_cpu_ms_per_request"] = None if postgres_cpu is None else 1000 * postgres_cpu / done
    result["client_cpu_ms_per_request"] = 1000 * result["client_cpu_seconds"] / done
    return result


# --- Opening the validations and the largest attestation (fresh processes) ---------------------

def measure_opening(_) -> dict:
    """open_due_validations() for the whole city, in one transaction rolled back at the end: the
    open annual validations are first marked complete as of now and the opening runs as of a year
    from today, so every department with live grants is due. The e-mails' on-commit sends run
    inside the timing (Celery in-process, mail to memory), as they would after each commit."""
    setup_django()
    from dateutil.relativedelta import relativedelta
    from django.core import mail
    from django.db import connection, transaction
    from django.test import TestCase
    from django.utils import timezone

    from accounts.models import Grant
    from audits.models import Validation, ValidationItem
    from audits.services import open_due_validations

    backend = local_backend_pid()
    with transaction.atomic():
        Validation.objects.filter(kind=Validation.Kind.ANNUAL, status__in=Validation.OPEN_STATUSES).update(
            status=Validation.Status.COMPLETE, completed_at=timezone.now())
        today = timezone.localdate() + relativedelta(years=1)
        mail.outbox = []
        rss_before = max_rss_bytes()
        backend_cpu = server_cpu_seconds(backend) if backend else None
        started, cpu_started = perf_counter(), cpu_seconds()
        with TestCase.captureOnCommitCallbacks(using=connection.alias, execute=True):
            opened = open_due_validations(today=today)
        seconds, cpu = perf_counter() - started, cpu_seconds() - cpu_started
        if backend_cpu is not None:
            backend_cpu = server_cpu_seconds(backend) - backend_cpu
        items = ValidationItem.objects.filter(validation__in=opened).count()
        departments = {v.department_id for v in opened}
        expected = Grant.objects.filter(status__in=Grant.LIVE_STATUSES, department__in=departments).count()
        transaction.set_rollback(True)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "postgresql_cpu_seconds": backend_cpu,
        "validations": len(opened),
        "items": items,
        "live_grants_of_those_departments": expected,
        "emails_sent": len(mail.outbox),
        "max_rss_before_bytes": rss_before,
        "max_rss_after_bytes": max_rss_bytes(),
        "rolled_back": True,
    }


def measure_attestation(pk: int) -> dict:
    """The attestation PDF of one validation, fetched as its view fetches it and made as the worker
    makes it (with the worker's render limit)."""
    setup_django()
    import io
    import resource

    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from pypdf import PdfReader

    from audits.documents import attestation_document
    from audits.models import Validation
    from audits.selectors import with_progress

    def children_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    render_cpu = children_cpu()
    started, cpu_started = perf_counter(), cpu_seconds()
    with CaptureQueriesContext(connection) as queries:
        validation = with_progress(Validation.objects.all()).select_related(
            "department__head", "system", "opened_by", "signed_off_by").get(pk=pk)
        document = attestation_document(validation=validation, seconds=settings.PDF_WORKER_RENDER_SECONDS)
    seconds, cpu = perf_counter() - started, cpu_seconds() - cpu_started
    pages = len(PdfReader(io.BytesIO(document.content)).pages)
    return {"validation": pk, "seconds": seconds, "cpu_seconds": cpu, "render_cpu_seconds": children_cpu() - render_cpu,
            "queries": len(queries), "pages": pages, "bytes": len(document.content)}


# --- Report -----------------------------------------------------------------------------------

def _ms(value) -> str:
    return "—" if value is None else f"{value:.1f}"


def floor_misses(floor: dict | None, baseline: dict) -> list[str]:
    """The signed-in floor's verdict: no error, and at least FLOOR_TARGET_SHARE of the baseline."""
    if floor is None:
        return []
    floor["share"] = floor["requests_per_second"] / baseline["requests_per_second"]
    misses = [f"{floor['errors']} errors"] if floor["errors"] else []
    if floor["share"] < FLOOR_TARGET_SHARE:
        misses.append(f"< {FLOOR_TARGET_SHARE:.0%} of baseline")
    floor["misses"] = misses
    return misses


def verdicts(pages: list[Page], baseline: dict, compared: dict | None, floor: dict | None = None) -> None:
    for page in pages:
        load, count = page.figures.get("load"), page.figures["count"]
        misses = []
        if load is not None:
            page.figures["share"] = load["requests_per_second"] / baseline["requests_per_second"]
            if floor is not None and page.who is not None:
                # How much of a signed-in page's cost is its own: its throughput against the floor's.
                page.figures["share_of_floor"] = load["requests_per_second"] / floor["requests_per_second"]
            if load["errors"]:
                misses.append(f"{load['errors']} errors")
            if load["p99_ms"] is None or load["p99_ms"] > TARGET_P99_MS:
                misses.append(f"p99 > {TARGET_P99_MS:.0f} ms")
            if page.figures["share"] < TARGET_SHARE:
                misses.append(f"< {TARGET_SHARE:.0%} of baseline")
        small = page.figures.get("small_count")
        if small and small["queries"] != count["queries"]:
            misses.append(f"queries {small['queries']} → {count['queries']} with size")
        other = (compared or {}).get(page.key)
        if other is not None and other["queries"] != count["queries"]:
            misses.append(f"queries {other['queries']} in the other city")
        page.figures["misses"] = misses


def print_table(pages: list[Page], baseline: dict, compared: dict | None, floor: dict | None = None) -> None:
    header = (f"{'page':<26} {'req/s':>7} {'median':>7} {'p99':>7} {'errors':>6} {'queries':>9} "
              f"{'worker CPU':>10} {'PG CPU':>7} {'share':>6} {'floor':>6}  verdict")
    print(header)
    print(f"{'':<26} {'':>7} {'ms':>7} {'ms':>7} {'':>6} {'(small)':>9} {'ms/req':>10} {'ms/req':>7} {'':>6} "
          f"{'':>6}")
    print(f"{'baseline (SELECT 1)':<26} {baseline['requests_per_second']:>7.1f} {_ms(baseline['median_ms']):>7} "
          f"{_ms(baseline['p99_ms']):>7} {baseline['errors']:>6} {1:>9} "
          f"{_ms(baseline['worker_cpu_ms_per_request']):>10} {_ms(baseline['postgres_cpu_ms_per_request']):>7} "
          f"{'100%':>6} {'':>6}  ceiling")
    if floor is not None:
        verdict = (f"met (≥ {FLOOR_TARGET_SHARE:.0%} of the baseline)" if not floor["misses"]
                   else "MISSED: " + "; ".join(floor["misses"]))
        print(f"{'signed-in floor (layout)':<26} {floor['requests_per_second']:>7.1f} {_ms(floor['median_ms']):>7} "
              f"{_ms(floor['p99_ms']):>7} {floor['errors']:>6} {floor['queries']:>9} "
              f"{_ms(floor['worker_cpu_ms_per_request']):>10} {_ms(floor['postgres_cpu_ms_per_request']):>7} "
              f"{floor['share']:>6.0%} {'100%':>6}  {verdict}")
    for page in pages:
        load, count = page.figures.get("load"), page.figures["count"]
        small = page.figures.get("small_count")
        queries = f"{count['queries']}" + (f" ({small['queries']})" if small else "")
        other = (compared or {}).get(page.key)
        if other is not None:
            queries += f" [{other['queries']}]"
        verdict = "met" if not page.figures["misses"] else "MISSED: " + "; ".join(page.figures["misses"])
        of_floor = page.figures.get("share_of_floor")
        print(f"{page.title:<26} {load['requests_per_second']:>7.1f} {_ms(load['median_ms']):>7} "
              f"{_ms(load['p99_ms']):>7} {load['errors']:>6} {queries:>9} "
              f"{_ms(load['worker_cpu_ms_per_request']):>10} {_ms(load['postgres_cpu_ms_per_request']):>7} "
              f"{page.figures['share']:>6.0%} {'—' if of_floor is None else f'{of_floor:.0%}':>6}  {verdict}")


def print_pages(pages: list[Page]) -> None:
    for page in pages:
        line = f"  {page.title}: {page.path} — {page.about}"
        if page.small_path:
            line += f"; small: {page.small_path} — {page.small_about}"
        print(line)


def print_slowest(pages: list[Page]) -> None:
    for page in pages:
        count = page.figures["count"]
        print(f"  {page.title}: {count['queries']} queries ({count['writes']} writes), {count['sql_ms']:.1f} ms of "
              f"SQL in a {count['in_process_ms']:.1f} ms request, {count['bytes'] / 1024:.0f} KB")
        for query in count["slowest"]:
            print(f"    {query['ms']:7.1f} ms  {' '.join(query['sql'].split())[:300]}")


# --- Main -------------------------------------------------------------------------------------

def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="the PostgreSQL database holding the city (default: DATABASE_URL)")
    parser.add_argument("--seconds", type=float, default=SECONDS, help=f"measured time per page (default {SECONDS:g})")
    parser.add_argument("--warmup", type=float, default=WARMUP_SECONDS,
                        help=f"unmeasured load before each page (default {WARMUP_SECONDS:g} s)")
    parser.add_argument("--clients", type=int, default=CLIENTS, help=f"concurrent clients (default {CLIENTS})")
    parser.add_argument("--client-processes", type=int, default=2,
                        help="processes the clients are spread over (default 2)")
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn workers (default: 2 × CPUs + 1 with --threads 1)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads a worker (default 1: sync workers; more: gthread)")
    parser.add_argument("--search", help="the request list's search text (default: the person page's surname)")
    parser.add_argument("--only", help="measure only these pages (comma-separated keys: dashboard, request_list, "
                                       "request, person, queue, validation, public_report)")
    parser.add_argument("--pages-only", action="store_true",
                        help="skip timing the validations' opening and the attestation PDF")
    parser.add_argument("--queries-only", action="store_true",
                        help="only count each page's queries (no server, no load)")
    parser.add_argument("--compare-database-url",
                        help="also count each page's queries in this database (a city of another size)")
    parser.add_argument("--collectstatic", action="store_true",
                        help="collect the static files even when STATIC_ROOT looks up to date")
    parser.add_argument("--show-queries", action="store_true", help="print each page's three slowest queries")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON ('-': stdout only)")
    parser.add_argument("--crawl", action="store_true",
                        help="only crawl every page reachable by links and forms as each role (no gunicorn, no load): "
                             f"CPU per request, queries and HTML size, against {crawl.CPU_LIMIT_MS:.0f} ms and "
                             f"{crawl.HTML_LIMIT_BYTES // 1024} KB")
    parser.add_argument("--crawl-roles", metavar="ROLES",
                        help=f"the roles to crawl as (comma-separated; default: {','.join(crawl.ROLES)})")
    parser.add_argument("--crawl-limit", metavar="N", type=int, default=crawl.PAGE_CAP,
                        help=f"pages (URL shapes) a role, at most (default {crawl.PAGE_CAP})")
    args = parser.parse_args()
    if args.crawl_limit < 1:
        parser.error("--crawl-limit must be 1 or more.")
    return args


def write_json(report: dict, target: str | None, stdout) -> None:
    if not target:
        return
    text = json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n"
    if target == "-":
        stdout.write(text)
    else:
        Path(target).write_text(text)
        print(f"Figures written to {target}.")


def static_files_stale() -> bool:
    """True unless STATIC_ROOT has a manifest newer than every file collectstatic would copy
    (collecting and compressing them all takes most of a minute)."""
    from django.conf import settings

    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if not manifest.exists():
        return True
    collected = manifest.stat().st_mtime
    for entry in settings.STATICFILES_DIRS:
        folder = Path(entry[1] if isinstance(entry, tuple) else entry)
        for path in folder.rglob("*"):
            if path.is_file() and path.stat().st_mtime > collected:
                return True
    return False


def compare_elsewhere(url: str, args) -> dict:
    """Each page's query count in another database, from a run of this script with --queries-only."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [sys.executable, __file__, "--queries-only", "--database-url", url, "--json", out.name]
        if args.search:
            command += ["--search", args.search]
        environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        completed = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True)
        if completed.returncode not in (0, 2):
            sys.exit(f"Counting queries in {url} failed:\n{completed.stdout[-2000:]}{completed.stderr[-2000:]}")
        report = json.loads(Path(out.name).read_text())
    return {row["key"]: {"queries": row["queries"], "database": report["database"], "city": report["city"]}
            for row in report["pages"]}


def main() -> int:
    args = parse_args()
    database_url = args.database_url or os.environ.get("DATABASE_URL")
    if not database_url:
        sys.exit("Set DATABASE_URL or --database-url to the PostgreSQL database holding the city.")
    environment = production_environment(database_url)
    os.environ.update(environment)
    # Celery in-process: nothing leaves the machine. REDIS_URL stays when set, so that sessions are
    # read from Redis as in production (portal.settings); without it they come from the database.
    os.environ["CELERY_BROKER_URL"] = "memory://"
    if not args.queries_only and not args.pages_only and not args.crawl:
        multiprocessing.forkserver.ensure_running()  # small, for the fresh processes below
    pool = (None if args.queries_only or args.crawl
            else multiprocessing.get_context("forkserver").Pool(args.client_processes))

    setup_django()
    from django.core.management import call_command
    from django.db import connection

    database = refuse_unless_postgresql()
    version = connection.pg_version
    cpus = os.cpu_count() or 1
    workers = args.workers or (2 * cpus + 1 if args.threads == 1 else cpus + 1)
    # With --json -, the JSON alone goes to the standard output and the rest to the standard error.
    stdout = sys.stdout
    if args.json == "-":
        sys.stdout = sys.stderr
    say = print
    say(f"Database {database} on PostgreSQL {version // 10000}.{version % 100}; {cpus} CPUs ({cpu_model()}); "
        f"Python {platform.python_version()}; load average {load_average()}.")
    city = city_counts()
    say("City: " + ", ".join(f"{value:,} {name.replace('_', ' ')}" for name, value in city.items()) + ".")

    # Production serves hashed static files from STATIC_ROOT: pages do not render without its manifest.
    if args.collectstatic or static_files_stale():
        started = perf_counter()
        call_command("collectstatic", interactive=False, verbosity=0)
        say(f"Static files collected for production in {perf_counter() - started:.1f} s.")
    if args.crawl:
        status, figures = crawl.main(args, sessions=Sessions(), headers=PROXY_HEADERS, say=say)
        write_json({"database": database, "postgresql": f"{version // 10000}.{version % 100}", "cpus": cpus,
                    "cpu_model": cpu_model(), "python": platform.python_version(), "city": city,
                    "crawl": figures}, args.json, stdout)
        return status
    if not args.queries_only:
        published = publish_report_if_none()
        if published:
            say(f"No public report: {published}.")
    pages, largest = pick_pages(args.search)
    if args.only:
        wanted = set(args.only.split(","))
        pages = [page for page in pages if page.key in wanted]
    sessions = Sessions()
    server = None
    floor = floor_count = None
    # The floor is measured as the first signed-in person of the pages (the head, in a full run).
    floor_who = next((page.who for page in pages if page.who is not None), None)
    try:
        count_queries(pages, sessions)
        if floor_who is not None:
            floor_count = _count(FLOOR_PATH, floor_who, sessions)
        compared = compare_elsewhere(args.compare_database_url, args) if args.compare_database_url else None
        report = {
            "database": database, "postgresql": f"{version // 10000}.{version % 100}", "cpus": cpus,
            "cpu_model": cpu_model(), "python": platform.python_version(), "city": city,
        }
        if args.queries_only:
            report["pages"] = [{"key": p.key, "title": p.title, "path": p.path, **p.figures["count"]} for p in pages]
            write_json(report, args.json, stdout)
            for page in pages:
                small = page.figures.get("small_count")
                other = (compared or {}).get(page.key)
                say(f"{page.title:<26} {page.figures['count']['queries']:>4} queries  {page.path} ({page.about})"
                    + (f"; {small['queries']} for {page.small_path} ({page.small_about})" if small else "")
                    + (f"; {other['queries']} in {other['database']}" if other else ""))
            if args.show_queries:
                print_slowest(pages)
            return 0

        say("Pages:")
        print_pages(pages)
        postmaster = postgres_server_pid()
        # The sessions are made; gunicorn's workers open their own connections.
        connection.close()
        server = Server(environment, workers, args.threads)
        say(f"gunicorn: {workers} {server.worker_class} workers"
            + (f" × {args.threads} threads" if args.threads > 1 else "")
            + f" on {HOST}:{server.port}; {args.clients} clients over {args.client_processes} processes, "
              f"{args.warmup:g} s warm-up then {args.seconds:g} s a page.")
        load_before = load_average()
        say(f"Measuring the baseline {BASELINE_PATH}...", flush=True)
        baseline = measure_page(pool, server, postmaster, BASELINE_PATH, None, args)
        if floor_who is not None:
            say(f"Measuring the signed-in floor {FLOOR_PATH}...", flush=True)
            floor = measure_page(pool, server, postmaster, FLOOR_PATH,
                                 f"sessionid={sessions.key_for(floor_who)}", args)
            floor["queries"] = floor_count["queries"]
        for page in pages:
            say(f"Measuring {page.title}...", flush=True)
            cookie = f"sessionid={sessions.key_for(page.who)}" if page.who is not None else None
            page.figures["load"] = measure_page(pool, server, postmaster, page.path, cookie, args)
        load_after = load_average()
        server.stop()
        server = None

        opening = attestation = None
        if not args.pages_only:
            say("Opening the yearly validations of the whole city (fresh process, rolled back)...", flush=True)
            opening = measure_in_fresh_process(None, measure_opening)
            say(f"Rendering the attestation PDF of validation {largest['validation']} "
                f"({largest['items']:,} items, fresh process)...", flush=True)
            attestation = measure_in_fresh_process(largest["validation"], measure_attestation)
    finally:
        if server is not None:
            server.stop()
        if pool is not None:
            pool.terminate()
        sessions.close()

    missed_floor = floor_misses(floor, baseline)
    verdicts(pages, baseline, compared, floor)
    say()
    print_table(pages, baseline, compared, floor)
    say(f"  req/s: answers 200 a second over {args.seconds:g} s at {args.clients} clients; median, p99: latency at "
        f"the client.\n  queries: SQL statements of one request, counted in this process with Django's test client "
        f"(small object\n  in brackets" + (", other city in square brackets" if compared else "") + "). worker CPU, "
        f"PG CPU: CPU time of the gunicorn workers and of\n  PostgreSQL per request. share, floor: req/s as a share of "
        f"the baseline's and of the signed-in floor's.\n  Load average before: {load_before}; after: {load_after}.")
    references = [("the baseline", baseline)] + ([("the signed-in floor", floor)] if floor else [])
    for title, load in references + [(page.title, page.figures["load"]) for page in pages]:
        if load["other_processes_cpu_share"] > 0.10:
            say(f"  Warning: other processes took {load['other_processes_cpu_share']:.0%} of the machine during "
                f"{title}; its figures are worse than on a quiet machine.")
        if load["connection_errors"]:
            kinds = ", ".join(f"{n} {kind}" for kind, n in load["connection_errors"].items())
            say(f"  {title}: {kinds} (no answer within {CLIENT_TIMEOUT:.0f} s, or the connection broke).")
        if load["worker_restarts"]:
            say(f"  {title}: gunicorn replaced {load['worker_restarts']} worker(s) (a request over its 60 s timeout).")
    if args.show_queries:
        say()
        say("Slowest queries of each page (in this process):")
        print_slowest(pages)
    if opening:
        say()
        opened_ok = opening["items"] == opening["live_grants_of_those_departments"]
        say(f"Opening the yearly validations of the whole city: {opening['validations']} validations, "
            f"{opening['items']:,} items ({'every' if opened_ok else 'NOT every'} live grant of their departments), "
            f"{opening['emails_sent']} e-mails sent; {opening['seconds']:.2f} s wall, "
            f"{opening['cpu_seconds']:.2f} s CPU, PostgreSQL {_ms(opening['postgresql_cpu_seconds'])} s CPU, "
            f"peak RSS {opening['max_rss_after_bytes'] / MB:.0f} MB (rolled back; issue 3's figure for 20,000 "
            f"grants: {OPENING_REFERENCE_SECONDS:.0f} s).")
        say(f"Attestation PDF of validation {attestation['validation']} ({largest['department']}, "
            f"{largest['items']:,} items): {attestation['seconds']:.2f} s wall, "
            f"{attestation['render_cpu_seconds']:.2f} s render CPU, {attestation['queries']} queries, "
            f"{attestation['pages']} pages, "
            f"{attestation['bytes'] / 1024:.0f} KB (made on the worker; the target for 2,000 items: "
            f"{ATTESTATION_REFERENCE_SECONDS:.0f} s).")

    missed = [page.title for page in pages if page.figures["misses"]]
    if missed_floor:
        missed.insert(0, "the signed-in floor")
    say()
    say(f"Targets: p99 ≤ {TARGET_P99_MS:.0f} ms, ≥ {TARGET_SHARE:.0%} of the baseline's throughput, no error, "
        f"query counts independent of size; the signed-in floor ≥ {FLOOR_TARGET_SHARE:.0%} of the baseline's: "
        + ("all met." if not missed else f"missed by {', '.join(missed)}."))

    if args.json:
        report.update({
            "load_average_before": load_before, "load_average_after": load_after,
            "gunicorn": {"workers": workers, "worker_class": "gthread" if args.threads > 1 else "sync",
                         "threads": args.threads},
            "clients": args.clients, "client_processes": args.client_processes, "seconds": args.seconds,
            "warmup_seconds": args.warmup,
            "targets": {"p99_ms": TARGET_P99_MS, "share_of_baseline": TARGET_SHARE,
                        "floor_share_of_baseline": FLOOR_TARGET_SHARE},
            "baseline": {"path": BASELINE_PATH, **baseline},
            "signed_in_floor": floor and {"path": FLOOR_PATH, **floor, "met": not floor["misses"]},
            "pages": [{"key": p.key, "title": p.title, "path": p.path, "about": p.about, "small_path": p.small_path,
                       "small_about": p.small_about, **p.figures, "met": not p.figures["misses"]} for p in pages],
            "compared_with": compared,
            "opening": opening,
            "attestation": attestation and {**attestation, "department": largest["department"],
                                            "items": largest["items"]},
        })
        write_json(report, args.json, stdout)
    return 2 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
