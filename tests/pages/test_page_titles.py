"""Every page's title names the page first, then the portal: "Dashboard — Surveillance Access Portal"
(what a screen reader reads first and a browser tab shows)."""

import re

import pytest
from django.urls import reverse

TITLE = re.compile(r"<title>(?P<page>[^<]*?) — Surveillance Access Portal</title>")


def _title(response) -> str:
    match = TITLE.search(response.content.decode())
    assert match, re.search(r"<title>.*?</title>", response.content.decode(), re.S)
    return match["page"]


def test_the_dashboard_reads_dashboard_then_the_portal(city, client):
    client.force_login(city.head)

    assert _title(client.get(reverse("home"))) == "Dashboard"


@pytest.mark.parametrize("name, expected", [
    ("login", "Sign in"),
    ("transparency:index", "Transparency"),
])
def test_the_public_pages_read_their_name_then_the_portal(city, client, name, expected):
    assert _title(client.get(reverse(name))) == expected


def test_every_signed_in_list_page_has_a_title_of_its_own(city, client):
    client.force_login(city.itsa)
    for name in ("waivers:list", "incidents:list", "retention:list", "agreements:list", "external:list",
                 "requests:list", "audits:list"):
        page = _title(client.get(reverse(name)))
        assert page and not page.startswith("—"), name
