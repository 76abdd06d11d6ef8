"""Every page reachable from the dashboard, as one person sees it: the link crawler that
tests/pages/test_links_lead_somewhere.py follows with the test client, and whose pages
tests/browser/test_every_page_axe_browser.py opens in Chromium."""

import re
from collections import deque
from dataclasses import dataclass
from html import unescape
from urllib.parse import urldefrag, urlsplit

from django.urls import Resolver404, resolve

ROLES = ["head", "requester", "officer", "outsider", "itsa", "designee", "auditor", "safety_director"]
HREF = re.compile(r'href="([^"]+)"')
# Leaving the portal, signing out, the admin site and static files are not the pages' links to check.
SKIP = re.compile(r"^/(static/|admin/|accounts/logout/|oidc/)")
# One page per list's search and paging: the list itself is followed once.
LIMIT = 250


def build_world():
    """The form fuzzing's world (one open record of each workflow), with the reported person's
    access suspended by the designee: the incident page then lists grants of a department whose
    grant pages the designee does not open."""
    from test_fuzz_forms import build_world as build_fuzz_world

    from incidents.services import incident_suspend

    world = build_fuzz_world()
    incident_suspend(incident=world.order.incident, reason="Pending the inquiry.", by=world.city.designee)
    return world


def links(html: str) -> list[str]:
    """The portal's own links on a page, without their fragments."""
    found = []
    for href in HREF.findall(html):
        url, _ = urldefrag(unescape(href))
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not url.startswith("/") or SKIP.match(url):
            continue
        found.append(url)
    return found


@dataclass
class Visit:
    url: str
    source: str
    status: int
    is_page: bool  # an HTML page, not a download or a stream


def crawl(client, start: str = "/") -> list[Visit]:
    """Follow every link from `start` breadth first with the signed-in client, each URL once and
    one URL with a query per path, up to LIMIT pages."""
    seen, paths_with_query, queue, visits = set(), set(), deque([(start, "the dashboard")]), []
    while queue and len(seen) < LIMIT:
        url, source = queue.popleft()
        if url in seen:
            continue
        path = urlsplit(url).path
        if "?" in url:
            if path in paths_with_query:
                continue
            paths_with_query.add(path)
        seen.add(url)
        response = client.get(url)
        is_page = response.status_code == 200 and not response.streaming \
            and response.get("Content-Type", "").startswith("text/html")
        visits.append(Visit(url, source, response.status_code, is_page))
        if is_page:
            queue.extend((link, url) for link in links(response.content.decode()) if link not in seen)
    return visits


def shape(url: str) -> str:
    """The URL pattern a URL matches (`requests/<int:pk>/`), with `?` when it has a query: pages of
    one shape share their template."""
    parts = urlsplit(url)
    try:
        route = resolve(parts.path).route
    except Resolver404:
        route = parts.path
    return route + ("?" if parts.query else "")
