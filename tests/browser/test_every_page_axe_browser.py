"""Every page of every role in Chromium: signed in as each of the eight roles of the link check
(tests/pages/test_links_lead_somewhere.py), open one page of each shape of URL reachable from the
dashboard, scan it with axe-core, and find no serious or critical violation and a clean console.

The pages are found with the test client (crawl_support.crawl), which is quick, and only opened in
the browser: one browser, one context per role, one page per URL pattern."""

from urllib.parse import urlsplit

import pytest
from conftest import PASSWORD, signed_in_client
import crawl_support
from crawl_support import ROLES, crawl, shape

from browser_helpers import serious_violations, sign_in, watch_console

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pages_of_each_shape(person) -> list[str]:
    """One URL of each pattern among the HTML pages the person reaches from the dashboard, the
    first the crawl met."""
    client = signed_in_client()
    client.force_login(person)
    chosen = {}
    for visit in crawl(client):
        if visit.is_page:
            chosen.setdefault(shape(visit.url), visit.url)
    return list(chosen.values())


@pytest.fixture
def portal(transactional_db):
    """The link check's world, committed, so that the live server sees it. (Not a module-level
    `build_world`: conftest would build that one inside a transaction the live server cannot see.)"""
    return crawl_support.build_world()


def test_every_page_of_every_role_passes_the_scan_with_a_clean_console(browser, live_server, portal):
    """S3.10: each role's pages have no serious or critical accessibility finding, and no page logs
    an error or a warning or throws."""
    findings, console, opened = [], [], 0
    for role in ROLES:
        person = getattr(portal.city, role)
        urls = pages_of_each_shape(person)
        context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
        try:
            page = context.new_page()
            page.set_default_timeout(15000)
            logged = watch_console(page)
            sign_in(page, person, PASSWORD)
            assert "/accounts/" not in page.url, f"the {role} could not sign in: {page.url}"
            for url in urls:
                page.goto(url)
                if urlsplit(page.url).path != urlsplit(url).path:  # the scan would be of another page
                    findings.append(f"{role} on {url}: opened {page.url} instead")
                    continue
                findings += [f"{role} on {url}: {line}" for line in serious_violations(page)]
            opened += len(urls)
            console += [f"{role}: {line}" for line in logged]
        finally:
            context.close()
    assert opened > 100
    assert not findings, "serious or critical axe-core findings:\n" + "\n".join(findings)
    assert not console, "the console of the pages:\n" + "\n".join(console)
