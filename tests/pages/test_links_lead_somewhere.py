"""Every link a page shows leads somewhere its reader may go: signed in as each role, follow every
link of every page reachable from the dashboard, and none answers 403 or 404."""

import re
from collections import deque
from html import unescape
from urllib.parse import urldefrag, urlsplit

import pytest
from conftest import signed_in_client
from test_fuzz_forms import build_world as build_fuzz_world

from incidents.services import incident_suspend

ROLES = ["head", "requester", "officer", "outsider", "itsa", "designee", "auditor", "safety_director"]
HREF = re.compile(r'href="([^"]+)"')
# Leaving the portal, signing out, the admin site and static files are not the pages' links to check.
SKIP = re.compile(r"^/(static/|admin/|accounts/logout/|oidc/)")
# One page per list's search and paging: the list itself is followed once.
LIMIT = 250


def build_world():
    world = build_fuzz_world()
    # The designee suspends the reported person's access: the incident page then lists grants of a
    # department whose grant pages the designee does not open.
    incident_suspend(incident=world.order.incident, reason="Pending the inquiry.", by=world.city.designee)
    return world


def _links(html: str) -> list[str]:
    found = []
    for href in HREF.findall(html):
        url, _ = urldefrag(unescape(href))
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not url.startswith("/") or SKIP.match(url):
            continue
        found.append(url)
    return found


@pytest.mark.parametrize("role", ROLES)
def test_no_link_answers_403_or_404_to_the_person_who_sees_it(role, world, db):
    """S3.10: a person is shown only what they may open."""
    client = signed_in_client()
    client.force_login(getattr(world.city, role))
    seen, paths_with_query, queue, broken = set(), set(), deque([("/", "the dashboard")]), []
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
        if response.status_code in (403, 404):
            broken.append(f"{url} ({response.status_code}), linked from {source}")
            continue
        if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html") \
                and not response.streaming:
            queue.extend((link, url) for link in _links(response.content.decode()) if link not in seen)
    assert not broken, f"links that lead nowhere for the {role}:\n" + "\n".join(broken)
    assert len(seen) > 5
