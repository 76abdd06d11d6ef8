"""bench/crawl.py: the shapes it visits, the links and forms it follows, its verdict, and one crawl
of a small city as the four roles that leaves the city as it found it."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.management import call_command

from accounts.models import OPERATIONS_DIRECTOR_GROUP, SAFETY_DIRECTOR_GROUP, Department, User
from bench.crawl import (
    CPU_LIMIT_MS,
    Breakdown,
    HTML_LIMIT_BYTES,
    ROLES,
    Visit,
    crawl,
    measure_references,
    page_links,
    rest_ms,
    skip_reason,
    url_shape,
    verdict,
    where_the_time_goes,
)
from bench.load import Sessions
from bench.seed_scale import Command
from portal.models import AuditEvent
from security.models import UserSession
from services import require_postgres


# --- URL shapes -----------------------------------------------------------------------------------

@pytest.mark.parametrize("url, shape", [
    ("/", "/"),
    ("/requests/", "/requests/"),
    ("/requests/123/", "/requests/<n>/"),
    ("/people/grants/7/", "/people/grants/<n>/"),
    ("/kpis/impact/1/2/3/2026/", "/kpis/impact/<n>/<n>/<n>/<n>/"),
    ("/reports/12.pdf", "/reports/<n>.pdf"),
    ("/requests/AR-2026-00042/", "/requests/<ref>/"),
    ("/files/0f3a9c2e-1b2c-4d5e-8f90-123456789abc/", "/files/<uuid>/"),
    ("/files/9f86d081884c7d65/", "/files/<hex>/"),
    ("/requests/?q=smith&status=open&q=lee", "/requests/?q&status"),
    ("/requests/?status=open&q=", "/requests/?q&status"),
    ("/validations/new/", "/validations/new/"),
])
def test_a_url_shape_replaces_numbers_references_and_query_values(url, shape):
    assert url_shape(url) == shape


def test_two_pages_of_one_list_have_one_shape_and_a_filtered_list_another():
    assert url_shape("/requests/?page=2") == url_shape("/requests/?page=9")
    assert url_shape("/requests/?page=2") != url_shape("/requests/?page=2&q=x")
    assert url_shape("/requests/1/") != url_shape("/requests/1/written/")


# --- Links and forms ----------------------------------------------------------------------------

SAMPLE = """
<nav><a href="/">Home</a> <a href="/requests/?status=open#top">Open</a> <a href="#main">Skip</a>
<a href="mailto:itsa@city.example">Mail</a> <a href="https://elsewhere.example/x">Out</a>
<a href="https://testserver/people/">People</a> <a href="12/">Relative</a>
<a href="/validations/3/attestation.pdf">PDF</a> <a href="/requests/4/written/" download>Text</a></nav>
<form method="get" action="/requests/">
  <input type="search" name="q" value="lee"> <input type="hidden" name="scope" value="mine">
  <input type="checkbox" name="late"> <input type="checkbox" name="mine" value="1" checked>
  <input type="text" name="off" value="x" disabled>
  <select name="status"><option value="">Any</option><option value="open" selected>Open</option></select>
  <select name="kind"><option value="a">A</option><option value="b">B</option></select>
  <textarea name="note">hello</textarea>
  <button type="submit" name="go" value="1">Search</button> <button type="submit" name="other" value="2">No</button>
</form>
<form action=""><input name="page" value="2"></form>
<form method="post" action="/accounts/logout/"><input name="csrfmiddlewaretoken" value="t"></form>
"""


def test_links_and_get_forms_are_followed_as_a_browser_would_send_them():
    found = page_links(SAMPLE, "/people/5/")
    urls = [url for url, _ in found]
    assert urls[:4] == ["/", "/requests/?status=open", "/people/", "/people/5/12/"]
    assert "/validations/3/attestation.pdf" in urls
    assert ("/requests/4/written/", True) in found  # marked as a download
    assert not any("elsewhere" in url or "mailto" in url or url.endswith("#main") for url in urls)
    # The GET form, with its default values: checked boxes only, the selected (or first) option, the
    # first submit button; the disabled field left out. The POST form is never sent.
    assert "/requests/?q=lee&scope=mine&mine=1&status=open&kind=a&note=hello&go=1" in urls
    assert "/people/5/?page=2" in urls  # no action: the page itself
    assert not any(url.startswith("/accounts/logout/") for url in urls)


@pytest.mark.parametrize("url, download, view, reason", [
    ("/accounts/logout/", False, None, "sign-out"),
    ("/admin/accounts/user/", False, None, "admin"),
    ("/static/portal.css", False, None, "static file"),
    ("/api/v1/people/", False, None, "API (JSON)"),
    ("/validations/3/attestation.pdf", False, None, "file (not HTML)"),
    ("/people/departments/2/people.csv", False, None, "file (not HTML)"),
    ("/requests/4/written/", False, "requests:written", "file (not HTML)"),
    ("/requests/4/anything/", True, None, "file (not HTML)"),
    ("/requests/4/", False, "requests:detail", None),
])
def test_sign_out_the_admin_static_files_the_api_and_downloads_are_not_visited(url, download, view, reason):
    assert skip_reason(url, download, view) == reason


# --- The verdict --------------------------------------------------------------------------------

def page(role="head", cpu=10.0, size=10_000, status=200, content_type="text/html; charset=utf-8"):
    return Visit(role=role, shape="/x/", url="/x/", found_on="/", status=status, content_type=content_type,
                 cpu_ms=cpu, queries=5, bytes=size)


@pytest.mark.django_db
def test_the_breakdown_counts_each_kind_of_work_without_the_others_it_calls():
    from django.db import connection
    from django.db.models.query import QuerySet
    from django.db.models.sql.compiler import SQLCompiler
    from django.template import engines
    from django.template.base import Template

    User.objects.create_user(email="x1@city.example", password="a long enough password", full_name="X One")
    template = engines["django"].from_string("{% for person in people %}{{ person.email }} {% endfor %}")
    with Breakdown(connection) as outside:
        people = list(User.objects.filter(email__icontains="x").order_by("email")[:5])
    assert people and outside.sql > 0 and outside.db > 0 and outside.objects > 0 and outside.templates == 0
    # A queryset evaluated by a template: its SQL, its run and its objects are not the template's time.
    with Breakdown(connection) as inside:
        for _ in range(20):
            template.render({"people": User.objects.filter(email__icontains="x").order_by("email")[:5]})
    with Breakdown(connection) as bare:
        for _ in range(20):
            template.render({"people": people})
    assert inside.sql > 0 and inside.db > 0 and inside.objects > 0
    assert bare.sql == bare.db == bare.objects == 0 and bare.templates > 0
    assert inside.templates < bare.templates + inside.sql + inside.db + inside.objects
    # Nothing stays patched after the `with`.
    patched = (SQLCompiler.as_sql, Template.render, QuerySet._fetch_all)
    assert not any(hasattr(method, "breakdown") for method in patched)
    assert connection.execute_wrappers == []


def test_where_the_time_goes_gives_the_shares_of_every_page_and_of_those_above_the_limit():
    pages = [Visit("head", "/a/", "/a/", "", status=200, content_type="text/html", cpu_ms=100.0, sql_ms=30.0,
                   db_ms=10.0, objects_ms=10.0, template_ms=20.0),
             Visit("itsa", "/b/", "/b/", "", status=200, content_type="text/html", cpu_ms=20.0, sql_ms=2.0,
                   db_ms=2.0, objects_ms=2.0, template_ms=4.0),
             Visit("itsa", "/c.pdf", "/c.pdf", "", status=200, content_type="application/pdf")]
    assert rest_ms(pages[0]) == 30.0 and rest_ms(pages[2]) is None
    line = where_the_time_goes(pages)
    assert "every page 27/10/10/20/33" in line
    assert "the 1 above 50 ms 30/10/10/20/30." in line


def test_the_verdict_is_met_when_every_page_is_under_both_limits():
    status, line = verdict([page(), page(role="itsa", cpu=CPU_LIMIT_MS)])
    assert status == 0 and line.endswith("met.") and "2 pages for 2 roles (head, itsa)" in line


def test_a_page_over_the_cpu_or_the_html_limit_misses():
    slow, large = page(cpu=CPU_LIMIT_MS + 0.1), page(size=HTML_LIMIT_BYTES + 1)
    status, line = verdict([page(), slow, large])
    assert status == 2 and "1 above 50 ms of CPU, 1 above 200 KB of HTML" in line and "MISSED" in line
    assert slow.misses == ["CPU > 50 ms"] and large.misses == ["HTML > 200 KB"]


def test_a_large_file_is_not_held_to_the_html_limit():
    status, _ = verdict([page(size=10 * HTML_LIMIT_BYTES, content_type="application/pdf", cpu=None)])
    assert status == 0


def test_a_server_error_fails_the_run_and_a_refused_link_is_reported():
    status, line = verdict([page(status=500, cpu=None), page(status=404, cpu=None), page(cpu=80.0)])
    assert status == 1 and "1 server errors, 1 links to 403/404" in line and "FAILED" in line


def test_the_verdict_says_when_the_page_cap_was_hit():
    _, line = verdict([page()], {"head": 12, "itsa": None})
    assert "the page cap was hit for head" in line and "itsa" not in line.split("cap")[1]


# --- One crawl of a small city ------------------------------------------------------------------

@pytest.fixture
def small_city(db):
    require_postgres()
    call_command(Command(), "--people", "40", "--departments", "2", "--systems", "4", "--years", "1", "--yes",
                 stdout=StringIO())
    yield
    ContentType.objects.clear_cache()


def city_state():
    return (User.objects.count(), Group.objects.get(name=SAFETY_DIRECTOR_GROUP).user_set.count(),
            Session.objects.count(), UserSession.objects.count(), AuditEvent.objects.count(),
            User.history.count())


@pytest.mark.postgres
def test_a_crawl_visits_pages_as_the_four_roles_and_finds_no_error_nor_a_refused_link(small_city):
    before = city_state()
    sessions = Sessions()
    try:
        result = crawl(ROLES, session_for=sessions.key_for, limit=30, timed=1, warmup=False)
    finally:
        sessions.close()
    visits = result["visits"]
    by_role = {role: [v for v in visits if v.role == role] for role in ROLES}
    assert all(len(found) >= 5 for found in by_role.values()), {r: len(v) for r, v in by_role.items()}
    assert [v for v in visits if v.status >= 500] == []
    assert [(v.role, v.url, v.status, v.found_on) for v in visits if v.status in (403, 404)] == []
    assert not any(v.error for v in visits)
    # One URL of each shape a role, each page measured.
    for found in by_role.values():
        assert len({v.shape for v in found}) == len(found)
    html = [v for v in visits if v.status == 200 and v.is_html]
    assert html and all(v.cpu_ms is not None and v.queries > 0 and v.bytes > 0 for v in html)
    # Where each page's CPU went: some of it building and running SQL and rendering templates, never
    # more than the page's CPU (one timed request: the mean is that request's own figure).
    assert all(v.sql_ms > 0 and v.db_ms > 0 and v.objects_ms > 0 and v.template_ms > 0 for v in html)
    assert all(v.sql_ms + v.db_ms + v.objects_ms + v.template_ms <= v.cpu_ms + 0.5 for v in html)
    assert "/waivers/" in {v.shape for v in by_role["director"]}
    assert result["made"] == []  # the city has its director
    assert result["status"] in (0, 2)
    assert city_state() == before


@pytest.mark.postgres
def test_the_references_are_measured_as_the_pages_are_where_they_are_routed(small_city, settings):
    head = Department.objects.filter(head__isnull=False).order_by("pk").first().head
    sessions = Sessions()
    try:
        assert measure_references(sessions.key_for(head.pk), timed=2) == []  # not routed: nothing to measure
        settings.ROOT_URLCONF = "tests.bench.bench_urls"
        baseline, floor = measure_references(sessions.key_for(head.pk), timed=2)
    finally:
        sessions.close()
    assert (baseline.url, baseline.status, baseline.queries) == ("/bench/baseline", 200, 1)
    assert (floor.url, floor.status) == ("/bench/signed-in", 200) and floor.queries >= 3
    assert baseline.cpu_ms > 0 and floor.cpu_ms > 0
    # The baseline's one query is written by hand: nothing for the query compiler to build.
    assert baseline.sql_ms == 0 and baseline.db_ms > 0 and floor.sql_ms > 0 and floor.template_ms > 0


@pytest.mark.postgres
def test_a_city_without_a_director_gets_one_for_the_crawl_and_loses_it_after(small_city):
    for name in (SAFETY_DIRECTOR_GROUP, OPERATIONS_DIRECTOR_GROUP):
        Group.objects.get_or_create(name=name)[0].user_set.clear()
    before = city_state()
    sessions = Sessions()
    try:
        result = crawl(("director",), session_for=sessions.key_for, limit=3, timed=1, warmup=False)
    finally:
        sessions.close()
    assert len(result["made"]) == 1 and "director" in result["made"][0]
    assert [v.status for v in result["visits"]][0] == 200
    assert result["capped"]["director"] is not None  # the cap of 3 was hit, and said
    assert city_state() == before
    assert not User.objects.filter(email="crawl.director@bench.example").exists()
