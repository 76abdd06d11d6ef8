"""Every page a signed-in person can reach, crawled (`bench/run --crawl`; bench/README.md, "Every
page, crawled").

Signs in as a department head (of the largest department), an ITSA administrator, the Mayor's
designee and a director, and from each one's dashboard follows every same-site link and every GET
form (submitted with its default values), breadth first, one URL of each shape a person. Each page
is requested in this process with Django's test client against the city's database: one request to
warm it up, then the median CPU time (`time.process_time()`) of three, then one more whose queries
are counted. Limits: 50 ms of CPU a request and 200 KB of HTML.

Where each page's CPU goes is measured in the same requests (`Breakdown`), the median one's given:
building SQL (Django's query compiler), running it (the driver's execute, PostgreSQL's own time
excluded), making rows into objects, and rendering templates, each without the others; the rest
is the view's own code and the middleware.

Only GET is ever sent, and nothing the crawl writes stays: it runs inside one transaction rolled back
at the end (the sessions, a director made for the run when the city has none, anything a page
writes), and each page's requests inside a savepoint rolled back after it, so a page that writes
holds no lock beyond its own requests and every page sees the city as it was.

load.py calls `main()` with its own session store writer and request headers; the tests call
`crawl()` and the pure parts (`url_shape`, `page_links`, `verdict`).
"""

import re
import statistics
import time
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urldefrag, urlencode, urljoin, urlsplit, urlunsplit

CPU_LIMIT_MS = 50.0
HTML_LIMIT_BYTES = 200 * 1024
PAGE_CAP = 300  # pages (URL shapes) a role, at most
TIMED_REQUESTS = 3
ROLES = ("head", "itsa", "designee", "director")
ROLE_TITLES = {"head": "head", "itsa": "ITSA", "designee": "designee", "director": "director"}

# Hosts a link may name and still be this site's (the test client's, the benchmark's).
SITE_HOSTS = {"", "testserver", "127.0.0.1", "localhost"}
# Paths never followed: the admin has its own pages and rules, static files are no pages, the API
# answers JSON to tokens.
SKIPPED_PREFIXES = {"/admin/": "admin", "/static/": "static file", "/media/": "static file", "/api/": "API (JSON)"}
SIGN_OUT = ("/accounts/logout/",)
# Files: kept out of the HTML-size rule, and never fetched, since a download is recorded in the
# audit trail (a benchmark must not add to it).
FILE_SUFFIX = re.compile(r"\.(pdf|csv|json|txt|zip|xlsx?|xml|png|jpe?g|gif|svg|ico)$", re.IGNORECASE)
# Downloads whose URL has no file name: the written text of a request, an attached document.
FILE_VIEWS = {"requests:written", "requests:document"}

_NUMBER = re.compile(r"^\d+$")
_UUID = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.IGNORECASE)
_HEX = re.compile(r"^[0-9a-f]{8,}$", re.IGNORECASE)
# A reference such as AR-2026-00042: letters, then groups of digits.
_REFERENCE = re.compile(r"^[A-Z]{1,6}(-\d+)+$", re.IGNORECASE)


# --- Pure parts -----------------------------------------------------------------------------------

def url_shape(url: str) -> str:
    """The shape of a URL: numbers, references, UUIDs and hex strings in its path become
    placeholders, and its query string the sorted set of its keys."""
    parts = urlsplit(url)
    segments = []
    for segment in parts.path.split("/"):
        stem, dot, suffix = segment.partition(".")
        if _NUMBER.match(stem):
            stem = "<n>"
        elif _UUID.match(stem):
            stem = "<uuid>"
        elif _REFERENCE.match(stem):
            stem = "<ref>"
        elif _HEX.match(stem) and any(c.isdigit() for c in stem):
            stem = "<hex>"
        segments.append(stem + dot + suffix)
    shape = "/".join(segments) or "/"
    keys = sorted({key for key, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return shape + ("?" + "&".join(keys) if keys else "")


def site_url(href: str, base: str) -> str | None:
    """`href` as a path and query on this site (resolved against `base`, fragment dropped), or None
    when it leads elsewhere (another host, mailto:, javascript:...)."""
    href = (href or "").strip()
    if not href or href.startswith("#"):
        return None
    absolute = urldefrag(urljoin("http://testserver" + base, href))[0]
    parts = urlsplit(absolute)
    if parts.scheme not in ("http", "https") or (parts.hostname or "") not in SITE_HOSTS:
        return None
    return urlunsplit(("", "", parts.path or "/", parts.query, ""))


class _Parser(HTMLParser):
    """The links (`<a href>`, with whether they are downloads) and GET forms of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, bool]] = []
        self.forms: list[dict] = []
        self._form = None
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href") is not None:
            self.links.append((a["href"], "download" in a))
        elif tag == "form":
            # A form without a method is sent with GET, as a browser does.
            method = (a.get("method") or "get").lower()
            self._form = {"action": a.get("action") or "", "fields": [], "get": method == "get"}
            self.forms.append(self._form)
        elif self._form is None or "disabled" in a:
            return
        elif tag == "input":
            kind, name = (a.get("type") or "text").lower(), a.get("name")
            if not name or kind in ("file", "image", "reset", "button"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form["fields"].append((name, a.get("value") or "on"))
            elif kind == "submit":
                self._default_button(name, a.get("value") or "")
            else:
                self._form["fields"].append((name, a.get("value") or ""))
        elif tag == "button" and (a.get("type") or "submit").lower() == "submit" and a.get("name"):
            self._default_button(a["name"], a.get("value") or "")
        elif tag == "select" and a.get("name"):
            self._select = {"name": a["name"], "first": None, "selected": None}
        elif tag == "option" and self._select is not None:
            value = a.get("value")
            if self._select["first"] is None:
                self._select["first"] = value
            if "selected" in a and self._select["selected"] is None:
                self._select["selected"] = value
        elif tag == "textarea" and a.get("name"):
            self._textarea = [a["name"], ""]

    def _default_button(self, name, value):
        # Pressing Enter sends the form with its first submit button.
        if not self._form.get("button"):
            self._form["button"] = True
            self._form["fields"].append((name, value))

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            chosen = self._select["selected"] if self._select["selected"] is not None else self._select["first"]
            if chosen is not None and self._form is not None:
                self._form["fields"].append((self._select["name"], chosen))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            if self._form is not None:
                self._form["fields"].append(tuple(self._textarea))
            self._textarea = None


def page_links(html: str, base: str) -> list[tuple[str, bool]]:
    """Every same-site URL a page leads to with GET, in the page's order: its links and its GET
    forms submitted with their default values. Each comes with True when marked as a download."""
    parser = _Parser()
    parser.feed(html)
    parser.close()
    found = []
    for href, download in parser.links:
        url = site_url(href, base)
        if url is not None:
            found.append((url, download))
    for form in parser.forms:
        if not form["get"]:
            continue
        action = site_url(form["action"], base) if form["action"] else base
        if action is None:
            continue
        # A GET form replaces the action's query string with its fields.
        path = urlsplit(action).path
        query = urlencode(form["fields"])
        found.append((path + ("?" + query if query else ""), False))
    return found


def skip_reason(url: str, download: bool = False, view_name: str | None = None) -> str | None:
    """Why a URL is not visited, or None."""
    path = urlsplit(url).path
    if path.startswith(SIGN_OUT):
        return "sign-out"
    for prefix, reason in SKIPPED_PREFIXES.items():
        if path.startswith(prefix):
            return reason
    if download or FILE_SUFFIX.search(path) or view_name in FILE_VIEWS:
        return "file (not HTML)"
    return None


@dataclass
class Visit:
    role: str
    shape: str
    url: str
    found_on: str
    status: int = 0
    content_type: str = ""
    cpu_ms: float | None = None
    # Where cpu_ms goes (Breakdown): the median timed request's own figures, in ms.
    sql_ms: float | None = None
    db_ms: float | None = None
    objects_ms: float | None = None
    template_ms: float | None = None
    queries: int | None = None
    writes: int | None = None
    bytes: int = 0
    location: str = ""
    error: str = ""
    misses: list = field(default_factory=list)

    @property
    def is_html(self) -> bool:
        return self.content_type.startswith("text/html")


def judge(visit: Visit, cpu_limit_ms: float = CPU_LIMIT_MS, html_limit: int = HTML_LIMIT_BYTES) -> list[str]:
    """What a visited page misses: its CPU per request, its HTML size, a server error."""
    misses = []
    if visit.status >= 500:
        misses.append(f"answered {visit.status}")
    if visit.cpu_ms is not None and visit.cpu_ms > cpu_limit_ms:
        misses.append(f"CPU > {cpu_limit_ms:.0f} ms")
    if visit.is_html and visit.bytes > html_limit:
        misses.append(f"HTML > {html_limit // 1024} KB")
    return misses


def verdict(visits: list[Visit], capped: dict | None = None) -> tuple[int, str]:
    """The exit status (0 met, 2 a limit missed, 1 a server error) and the verdict line."""
    for visit in visits:
        visit.misses = judge(visit)
    errors = [v for v in visits if v.status >= 500]
    slow = [v for v in visits if v.cpu_ms is not None and v.cpu_ms > CPU_LIMIT_MS]
    large = [v for v in visits if v.is_html and v.bytes > HTML_LIMIT_BYTES]
    refused = [v for v in visits if v.status in (403, 404)]
    roles = sorted({v.role for v in visits}, key=lambda r: ROLES.index(r) if r in ROLES else len(ROLES))
    line = (f"Crawl: {len(visits)} pages for {len(roles)} roles ({', '.join(roles) or 'none'}); "
            f"{len(slow)} above {CPU_LIMIT_MS:.0f} ms of CPU, {len(large)} above {HTML_LIMIT_BYTES // 1024} KB "
            f"of HTML, {len(errors)} server errors, {len(refused)} links to 403/404")
    hit = [role for role, left in (capped or {}).items() if left is not None]
    if hit:
        line += f"; the page cap was hit for {', '.join(hit)}"
    if errors:
        return 1, line + ": FAILED (server error)."
    if slow or large:
        return 2, line + ": MISSED."
    return 0, line + ": met."


# --- The people -------------------------------------------------------------------------------

def crawl_people(roles=ROLES) -> tuple[dict, list[str]]:
    """The person of each role: {role: (pk, description)}, and what was made for the run. Runs
    inside the crawl's transaction, so a director made here is gone with its rollback."""
    from django.db.models import Count, Q

    from accounts.models import (DESIGNEE_GROUP, ITSA_GROUP, OPERATIONS_DIRECTOR_GROUP, SAFETY_DIRECTOR_GROUP,
                                 Department, User)

    people, made = {}, []
    for role in roles:
        if role == "head":
            department = (Department.objects.filter(head__isnull=False, head__is_active=True)
                          .annotate(n=Count("people", filter=Q(people__is_active=True)))
                          .order_by("-n", "pk").select_related("head").first())
            if department is None:
                raise SystemExit("The city has no department with an active head: nothing to crawl as a head.")
            people[role] = (department.head_id, f"{department.head.full_name}, head of {department.name} "
                                                f"({department.n:,} people)")
        elif role in ("itsa", "designee"):
            group = ITSA_GROUP if role == "itsa" else DESIGNEE_GROUP
            person = User.objects.filter(groups__name=group, is_active=True).order_by("pk").first()
            if person is None:
                raise SystemExit(f"The city has no active member of “{group}”: nothing to crawl as {role}.")
            people[role] = (person.pk, f"{person.full_name} ({group})")
        elif role == "director":
            person = (User.objects.filter(groups__name__in=[SAFETY_DIRECTOR_GROUP, OPERATIONS_DIRECTOR_GROUP],
                                          is_active=True).order_by("pk").first())
            if person is None:
                person = _temporary_director()
                made.append(f"a director for the run ({person.email}), rolled back with the crawl")
            names = ", ".join(person.groups.filter(name__in=[SAFETY_DIRECTOR_GROUP, OPERATIONS_DIRECTOR_GROUP])
                              .values_list("name", flat=True))
            people[role] = (person.pk, f"{person.full_name} ({names})")
        else:
            raise SystemExit(f"Unknown role {role!r}: choose among {', '.join(ROLES)}.")
    return people, made


def _temporary_director():
    """A Director of Public Safety made as the portal makes a city role: a person in the role's group."""
    from accounts.models import SAFETY_DIRECTOR_GROUP, User
    from accounts.services import role_group

    person = User.objects.create_user(email="crawl.director@bench.example", full_name="Benchmark Director",
                                      title="Director of Public Safety")
    person.groups.add(role_group(SAFETY_DIRECTOR_GROUP))
    return person


# --- The crawl --------------------------------------------------------------------------------

def _view_name(path: str) -> str | None:
    from django.urls import Resolver404, resolve

    try:
        return resolve(path).view_name
    except Resolver404:
        return None


class Breakdown:
    """CPU time (`time.process_time()`) spent, while active, in four kinds of work, each counted
    without the others it calls (the time of a call less that of the calls it makes, as a profiler
    counts a function's own time):

    - `sql`: building SQL (`SQLCompiler.as_sql`, the query compiler);
    - `db`: running it (inside the connection's execute wrappers: the driver, not PostgreSQL's own time);
    - `objects`: making rows into model instances and lists, prefetches included (`QuerySet._fetch_all`);
    - `templates`: rendering templates (`Template.render`).

    So a queryset a template evaluates counts its SQL, its run and its objects apart from the
    template's own time. A context manager: the patches last only as long as the `with`."""

    KINDS = ("sql", "db", "objects", "templates")

    def __init__(self, connection):
        self.connection = connection
        self.spent = dict.fromkeys(self.KINDS, 0.0)
        self._children: list[float] = []  # for each open call, the time of the calls it made

    def __getattr__(self, kind):
        if kind in Breakdown.KINDS:
            return self.spent[kind]
        raise AttributeError(kind)

    def _own(self, kind, call):
        self._children.append(0.0)
        started = time.process_time()
        try:
            return call()
        finally:
            elapsed = time.process_time() - started
            self.spent[kind] += elapsed - self._children.pop()
            if self._children:
                self._children[-1] += elapsed

    def _execute(self, execute, sql, params, many, context):
        return self._own("db", lambda: execute(sql, params, many, context))

    def __enter__(self):
        from django.db.models.query import QuerySet
        from django.db.models.sql.compiler import SQLCompiler
        from django.template.base import Template

        self._patched = [(SQLCompiler, "as_sql", "sql"), (Template, "render", "templates"),
                         (QuerySet, "_fetch_all", "objects")]
        self._originals = [getattr(owner, name) for owner, name, _ in self._patched]
        for (owner, name, kind), original in zip(self._patched, self._originals):
            setattr(owner, name, self._timed(original, kind))
        self._wrapper = self.connection.execute_wrapper(self._execute)
        self._wrapper.__enter__()
        return self

    def _timed(self, original, kind):
        breakdown = self

        def timed(*args, **kwargs):
            return breakdown._own(kind, lambda: original(*args, **kwargs))

        timed.__name__ = original.__name__
        timed.breakdown = True
        return timed

    def __exit__(self, *exc):
        self._wrapper.__exit__(*exc)
        for (owner, name, _), original in zip(self._patched, self._originals):
            setattr(owner, name, original)
        return False


def measure(client, visit: Visit, timed: int = TIMED_REQUESTS, warmup: bool = True,
            any_page: bool = False) -> str | None:
    """One page: a warm-up request, the median CPU time of `timed` more, then one whose queries are
    counted, all in a savepoint rolled back after them. Returns the HTML when the page is one. The CPU
    is kept for HTML pages answering 200 only, or for any answer with `any_page` (the references)."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    def get():
        response = client.get(visit.url, secure=True)
        # The test client has closed the response already: closing it again would signal the end of a
        # request, and Django would drop the connection (and the crawl's transaction) with it.
        body = b"" if response.streaming else response.content
        return response, body

    with transaction.atomic():
        response, body = get() if warmup else (None, None)
        if response is None or any_page or (response.status_code == 200
                                            and response.get("Content-Type", "").startswith("text/html")):
            timings = []  # (CPU, its Breakdown) of each timed request
            for _ in range(timed):
                with Breakdown(connection) as breakdown:
                    started = time.process_time()
                    response, body = get()
                    timings.append((time.process_time() - started, breakdown))
            if timings:
                # The median request, and where its own CPU went (an odd slow request skews no figure).
                timings.sort(key=lambda timing: timing[0])
                cpu, breakdown = timings[(len(timings) - 1) // 2]
                visit.cpu_ms = 1000 * statistics.median(timing[0] for timing in timings)
                visit.sql_ms, visit.db_ms, visit.objects_ms, visit.template_ms = (
                    1000 * breakdown.spent[kind] for kind in Breakdown.KINDS)
        with CaptureQueriesContext(connection) as captured:
            response, body = get()
        visit.queries = len(captured.captured_queries)
        visit.writes = sum(1 for q in captured.captured_queries
                           if q["sql"].lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"))
        transaction.set_rollback(True)
    visit.status = response.status_code
    visit.content_type = response.get("Content-Type", "")
    visit.bytes = len(body)
    visit.location = response.get("Location", "") if 300 <= visit.status < 400 else ""
    if visit.status >= 500 and getattr(response, "exc_info", None):
        visit.error = f"{response.exc_info[0].__name__}: {str(response.exc_info[1])[:300]}"
    if any_page:
        return None
    if visit.status != 200 or not visit.is_html:
        # Only HTML pages are held to the CPU limit.
        visit.cpu_ms = visit.sql_ms = visit.db_ms = visit.objects_ms = visit.template_ms = None
        return None
    return body.decode(response.charset or "utf-8", errors="replace")


def crawl_role(role: str, session_key: str, *, limit: int = PAGE_CAP, headers: dict | None = None,
               timed: int = TIMED_REQUESTS, warmup: bool = True, say=None) -> tuple[list[Visit], dict, int | None]:
    """Breadth first from the dashboard, one URL of each shape. Returns the visits, the skipped
    links by reason, and how many shapes were left when the cap was hit (None when it was not)."""
    from django.conf import settings
    from django.shortcuts import resolve_url
    from django.test import Client

    client = Client(headers=headers or {}, raise_request_exception=False)
    queue = [("/", "")]
    shapes = {url_shape("/")}
    visits, skipped = [], {}
    login = urlsplit(resolve_url(settings.LOGIN_URL)).path
    while queue:
        if len(visits) >= limit:
            break
        url, found_on = queue.pop(0)
        visit = Visit(role=role, shape=url_shape(url), url=url, found_on=found_on)
        # Every page with the role's own session, as it was made (a page's renewal is rolled back).
        client.cookies[settings.SESSION_COOKIE_NAME] = session_key
        html = measure(client, visit, timed=timed, warmup=warmup)
        visits.append(visit)
        if say and len(visits) % 25 == 0:
            say(f"  {role}: {len(visits)} pages, {len(queue)} to go...", flush=True)
        next_urls = []
        if visit.location:
            target = site_url(visit.location, url)
            if target is not None and urlsplit(target).path.startswith(login):
                visit.error = "redirected to sign-in: the session was refused"
            elif target is not None:
                next_urls.append((target, False))
        if html is not None:
            next_urls += page_links(html, url)
        for target, download in next_urls:
            shape = url_shape(target)
            if shape in shapes:
                continue
            reason = skip_reason(target, download, _view_name(urlsplit(target).path))
            if reason:
                skipped.setdefault(reason, set()).add(shape)
                continue
            shapes.add(shape)
            queue.append((target, url))
    return visits, {reason: sorted(found) for reason, found in skipped.items()}, (len(queue) if queue else None)


REFERENCE_TIMED = 15  # the references are light: more requests for a steadier median


def measure_references(session_key: str, *, headers: dict | None = None, timed: int = REFERENCE_TIMED) -> list[Visit]:
    """bench/load.py's two references, measured as the pages are: the baseline (one trivial query,
    anonymous) and the signed-in floor (the layout alone, with `session_key`): what every page pays
    before its own work. Only where they are routed (BENCH_BASELINE, which bench/run sets); else none."""
    from django.conf import settings
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    try:
        urls = (("anonymous", reverse("bench_baseline")), ("signed in", reverse("bench_signed_in")))
    except NoReverseMatch:
        return []
    references = []
    for who, url in urls:
        client = Client(headers=headers or {}, raise_request_exception=False)
        if who == "signed in":
            client.cookies[settings.SESSION_COOKIE_NAME] = session_key
        visit = Visit(role=who, shape=url, url=url, found_on="")
        measure(client, visit, timed=timed, any_page=True)
        references.append(visit)
    return references


def crawl(roles=ROLES, *, session_for, limit: int = PAGE_CAP, headers: dict | None = None,
          timed: int = TIMED_REQUESTS, warmup: bool = True, say=None) -> dict:
    """Crawl as each role inside one transaction rolled back at the end. `session_for(pk)` gives a
    signed-in session key for a person (load.py's Sessions.key_for)."""
    from django.db import transaction

    visits, capped, skipped, people = [], {}, {}, {}
    with transaction.atomic():
        found, made = crawl_people(roles)
        for role in roles:
            pk, about = found[role]
            people[role] = about
            if say:
                say(f"Crawling as the {ROLE_TITLES.get(role, role)}: {about}...", flush=True)
            role_visits, role_skipped, left = crawl_role(role, session_for(pk), limit=limit, headers=headers,
                                                         timed=timed, warmup=warmup, say=say)
            visits += role_visits
            capped[role] = left
            for reason, shapes in role_skipped.items():
                skipped.setdefault(reason, set()).update(shapes)
        # After the pages, so that the process is as warm for them as for the last page.
        references = measure_references(session_for(found[roles[0]][0]), headers=headers) if roles else []
        transaction.set_rollback(True)
    status, line = verdict(visits, capped)
    return {"visits": visits, "capped": capped, "skipped": {r: sorted(s) for r, s in skipped.items()},
            "people": people, "made": made, "limit": limit, "status": status, "verdict": line,
            "references": references, "reference_role": roles[0] if references else None}


# --- Report -----------------------------------------------------------------------------------

def print_report(result: dict, say=print) -> None:
    visits = sorted(result["visits"], key=lambda v: (-(v.cpu_ms if v.cpu_ms is not None else -1), v.role, v.shape))
    say()
    say(f"{'role':<9} {'CPU ms':>7} {'SQL':>5} {'DB':>5} {'obj':>5} {'tmpl':>5} {'rest':>5} {'queries':>7} "
        f"{'KB':>6} {'status':>6}  {'URL shape':<52} example")
    for v in visits:
        mark = " <" if v.misses else ""
        say(f"{ROLE_TITLES.get(v.role, v.role):<9} {_ms(v.cpu_ms):>7} {_ms(v.sql_ms):>5} {_ms(v.db_ms):>5} "
            f"{_ms(v.objects_ms):>5} {_ms(v.template_ms):>5} {_ms(rest_ms(v)):>5} {_n(v.queries):>7} "
            f"{v.bytes / 1024:>6.1f} {v.status:>6}  {v.shape:<52} {v.url}{mark}")
    say(f"  CPU ms: median CPU time of this process for one request ({TIMED_REQUESTS} after one to warm up), "
        "HTML pages only.\n  Of that request's CPU, each counted without the others: SQL, building SQL (Django's "
        "query compiler);\n  DB, in the driver running it; obj, rows made into objects (prefetches included); "
        "tmpl, rendering templates;\n  rest, the view's own code and the middleware.\n"
        f"  queries: SQL statements of one more request; KB: size of the answer. "
        f"'<' marks a page above a limit\n  ({CPU_LIMIT_MS:.0f} ms of CPU, {HTML_LIMIT_BYTES // 1024} KB of HTML) "
        f"or a server error.")
    writing = [v for v in visits if v.writes]
    if writing:
        say("  Pages that write on GET (rolled back): "
            + "; ".join(f"{ROLE_TITLES.get(v.role, v.role)} {v.shape} ({v.writes})" for v in writing))
    for v in visits:
        if v.status >= 500 or v.status in (403, 404) or v.error:
            say(f"  {ROLE_TITLES.get(v.role, v.role)}: {v.url} answered {v.status}"
                + (f" ({v.error})" if v.error else "") + f", linked from {v.found_on or 'the start'}.")
    for reason, shapes in sorted(result["skipped"].items()):
        say(f"  Not visited, {reason}: {len(shapes)} URL shapes" + (f" ({', '.join(shapes[:8])}"
                                                                    + (", ..." if len(shapes) > 8 else "") + ")"))
    for role, left in result["capped"].items():
        if left is not None:
            say(f"  The cap of {result['limit']} pages was hit as the {ROLE_TITLES.get(role, role)}: "
                f"{left} URL shapes were left unvisited (--crawl-limit).")
    for what in result["made"]:
        say(f"  Made for the run: {what}.")
    if result.get("references"):
        say("  References (bench/load.py's, measured the same way, median of "
            f"{REFERENCE_TIMED}; the floor signed in as the {ROLE_TITLES.get(result['reference_role'], '')}):"
            if result.get("reference_role") else f"  References (bench/load.py's, median of {REFERENCE_TIMED}):")
        for v in result["references"]:
            say(f"    {v.url:<20} {v.role:<10} CPU {_ms(v.cpu_ms)} ms: SQL {_ms(v.sql_ms)}, DB {_ms(v.db_ms)}, "
                f"obj {_ms(v.objects_ms)}, tmpl {_ms(v.template_ms)}, rest {_ms(rest_ms(v))}; {_n(v.queries)} queries")
    say()
    say(where_the_time_goes(visits))
    say(result["verdict"])


def as_json(result: dict) -> dict:
    return {
        "limits": {"cpu_ms": CPU_LIMIT_MS, "html_bytes": HTML_LIMIT_BYTES, "pages_per_role": result["limit"]},
        "people": result["people"], "made_for_the_run": result["made"], "skipped": result["skipped"],
        "capped": result["capped"], "verdict": result["verdict"], "status": result["status"],
        "pages": [{**asdict(v), "met": not v.misses} for v in result["visits"]],
        "references": [asdict(v) for v in result.get("references", [])],
    }


def rest_ms(visit: Visit) -> float | None:
    """What the breakdown does not name: the view's own code and the middleware."""
    parts = (visit.sql_ms, visit.db_ms, visit.objects_ms, visit.template_ms)
    if visit.cpu_ms is None or None in parts:
        return None
    return max(0.0, visit.cpu_ms - sum(parts))


def where_the_time_goes(visits: list[Visit]) -> str:
    """One line: the share of the CPU of all measured pages spent building SQL, running it, making
    objects, in templates and elsewhere, and the same for the pages above the CPU limit."""
    def shares(pages):
        total = sum(v.cpu_ms for v in pages)
        parts = (sum(v.sql_ms for v in pages), sum(v.db_ms for v in pages), sum(v.objects_ms for v in pages),
                 sum(v.template_ms for v in pages), sum(rest_ms(v) for v in pages))
        return "/".join(f"{100 * part / total:.0f}" for part in parts) if total else "—"

    measured = [v for v in visits if rest_ms(v) is not None]
    over = [v for v in measured if v.cpu_ms > CPU_LIMIT_MS]
    return (f"Where the CPU goes, SQL built / run / objects / templates / rest, in %: every page {shares(measured)}"
            + (f"; the {len(over)} above {CPU_LIMIT_MS:.0f} ms {shares(over)}." if over else "."))


def _ms(value) -> str:
    return "—" if value is None else f"{value:.1f}"


def _n(value) -> str:
    return "—" if value is None else str(value)


def main(args, *, sessions, headers: dict, say=print) -> tuple[int, dict]:
    """`bench/run --crawl`: the crawl with load.py's options, sessions and headers. Returns the exit
    status and the JSON figures."""
    roles = tuple(role.strip() for role in (args.crawl_roles or ",".join(ROLES)).split(",") if role.strip())
    unknown = [role for role in roles if role not in ROLES]
    if unknown:
        raise SystemExit(f"Unknown role(s) {', '.join(unknown)}: choose among {', '.join(ROLES)}.")
    started = time.time()
    try:
        result = crawl(roles, session_for=sessions.key_for, limit=args.crawl_limit, headers=headers, say=say)
    finally:
        sessions.close()  # already rolled back with the crawl; nothing is left either way
    print_report(result, say)
    say(f"Crawled in {time.time() - started:.0f} s.")
    return result["status"], as_json(result)
