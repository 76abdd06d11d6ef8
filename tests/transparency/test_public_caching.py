"""The public pages as a cache and a browser meet them: HEAD answers like GET, the page and the
downloads it links never disagree after a publication, and the icon browsers ask for exists."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from public_helpers import publish_report

DOWNLOADS = ("transparency:open_data_csv", "transparency:open_data_json", "transparency:audit_anchors_csv")


@pytest.fixture
def anonymous():
    return Client()


def _linked_downloads(client) -> dict[str, str]:
    page = client.get(reverse("transparency:index")).content.decode()
    return {name: re.search(re.escape(reverse(name)) + r"\?edition=[\w-]+", page).group(0) for name in DOWNLOADS}


@pytest.mark.parametrize("name", ["transparency:index", *DOWNLOADS])
def test_head_answers_as_get_does_with_no_body(db, anonymous, name):
    """S2.4: the public pages answer every ordinary request of a browser or a cache."""
    head = anonymous.head(reverse(name))
    get = anonymous.get(reverse(name))
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head["Cache-Control"] == get["Cache-Control"] == "public, max-age=300"


def test_a_publication_changes_the_links_so_a_cached_page_and_its_downloads_agree(city, anonymous):
    """S2.6: right after a publication the page links downloads no cache holds yet."""
    before = _linked_downloads(anonymous)
    publish_report(by=city.designee)
    after = _linked_downloads(anonymous)
    assert all(before[name] != after[name] for name in DOWNLOADS)
    response = anonymous.get(after["transparency:open_data_csv"])
    assert response.status_code == 200
    assert "Citywide report, first half of 2026" in response.content.decode()


def test_the_page_links_the_same_downloads_until_something_is_published(city, anonymous):
    publish_report(by=city.designee)
    assert _linked_downloads(anonymous) == _linked_downloads(anonymous)


def test_favicon_leads_to_the_portals_icon(db, anonymous):
    response = anonymous.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"].endswith("favicon.svg")
    assert anonymous.head("/favicon.ico").status_code == 302
    assert '<link rel="icon"' in anonymous.get(reverse("transparency:index")).content.decode()
