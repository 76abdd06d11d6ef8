"""The public transparency page (S2.4, S2.5c, S2.6): open to every visitor, read only."""

import hashlib
import html
import os
import re
from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from public_helpers import draft_version, pdf_with_text, publish_report, published_version

from portal.models import AuditEvent, IntendedUse, PermissibleUse

PUBLIC_URLS = ["transparency:index", "transparency:report", "transparency:report_pdf",
               "transparency:open_data_csv", "transparency:open_data_json"]


def _url(name, report):
    return reverse(name, args=[report.pk]) if name in ("transparency:report", "transparency:report_pdf") \
        else reverse(name)


def _text(response) -> str:
    # The words a reader sees, tags removed and spaces collapsed.
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


@pytest.fixture
def anonymous():
    return Client()


@pytest.mark.parametrize("name", PUBLIC_URLS)
def test_every_public_url_answers_a_visitor_who_is_not_signed_in(city, anonymous, name):
    """S2.6: the policy, the reports and the open data are public."""
    report = publish_report(by=city.designee)

    response = anonymous.get(_url(name, report))

    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=300"


@pytest.mark.parametrize("name", PUBLIC_URLS)
@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_public_urls_answer_anything_but_get_with_405(city, anonymous, name, method):
    report = publish_report(by=city.designee)

    assert getattr(anonymous, method)(_url(name, report)).status_code == 405


@pytest.mark.parametrize("name", ["transparency:report", "transparency:report_pdf"])
def test_a_report_not_published_for_the_public_is_not_found(city, anonymous, client, name):
    """S2.5b: a department's annual report goes to the Mayor, not to the public page."""
    internal = publish_report(by=city.designee, is_public=False, kind="department_annual", department=city.police,
                              title="Police Department annual report")

    assert anonymous.get(reverse(name, args=[internal.pk])).status_code == 404
    client.force_login(city.designee)
    assert client.get(reverse(name, args=[internal.pk])).status_code == 404
    assert anonymous.get(reverse(name, args=[987654])).status_code == 404
    assert "Police Department annual report" not in _text(anonymous.get(reverse("transparency:index")))


def test_the_page_shows_the_current_version_and_the_change_log_of_every_published_version(city, anonymous):
    """S2.4: published versions include all changes, substantive ones with the Mayor's approval and the
    Board of Aldermen's notification; S2.6: the current version is published."""
    today = timezone.localdate()
    first = published_version(city, number="1.0", effective_on=today - timedelta(days=400))
    second = published_version(city, number="1.1", effective_on=today - timedelta(days=20), approved=False,
                               notified=False, changes=[("3.5", "Clarifies who forwards the documents.", False)])
    draft_version(city, number="1.2", changes=[("2.2", "A draft nobody has published.", True)])

    text = _text(anonymous.get(reverse("transparency:index")))

    current = text.split("Current policy", 1)[1].split("Table 1", 1)[0]
    assert "Version 1.1: Surveillance policy, version 1.1" in current
    assert f"In effect since {second.effective_on:%B} {second.effective_on.day}, {second.effective_on.year}" in current
    assert "The City's surveillance policy." in current
    log = text.split("Changes to the policy", 1)[1].split("Public reports", 1)[0]
    assert log.index("Version 1.1") < log.index("Version 1.0"), "newest first"
    assert "1.2" not in log and "A draft nobody has published." not in text
    newer, older = log.split("Version 1.0", 1)
    assert "3.5 Clarifies who forwards the documents. Non-substantive" in newer
    assert "Approved by the Mayor" not in newer
    assert "2.2 Table 1 adds public health as an intended use. Substantive" in older
    assert "3.5 Corrects a cross-reference. Non-substantive" in older
    approved, notified = first.mayor_approved_on, first.aldermen_notified_on
    assert f"Approved by the Mayor on {approved:%B} {approved.day}, {approved.year}" in older
    assert f"Board of Aldermen notified on {notified:%B} {notified.day}, {notified.year}" in older


def test_each_change_carries_a_tag_saying_whether_it_is_substantive(city, anonymous):
    """S2.4"""
    published_version(city)

    page = anonymous.get(reverse("transparency:index")).content.decode()

    assert re.search(r'<span class="usa-tag[^"]*">Substantive</span>', page)
    assert re.search(r'<span class="usa-tag[^"]*">Non-substantive</span>', page)


def test_the_page_shows_table_1(city, anonymous):
    """S2.6: the policy is published, Table 1 with it (T1)."""
    text = _text(anonymous.get(reverse("transparency:index")))

    for use in IntendedUse.objects.all():
        assert use.name in text
        for condition in use.condition_list():
            assert re.sub(r"\s+", " ", condition) in text
    for permissible in PermissibleUse.objects.all():
        assert permissible.name in text


def test_the_page_says_so_when_nothing_is_published_yet(db, anonymous):
    text = _text(anonymous.get(reverse("transparency:index")))

    assert "No report has been published yet." in text
    assert "No version of the policy has been published yet." in text


def test_the_page_lists_each_public_report_with_its_page_and_its_pdf(city, anonymous):
    """S2.5c: the biannual report is available to the general public."""
    older = publish_report(by=city.designee, title="Citywide report, second half of 2025",
                           period_start=date(2025, 7, 1), period_end=date(2025, 12, 31))
    newer = publish_report(by=city.designee)

    page = anonymous.get(reverse("transparency:index")).content.decode()

    for report in (older, newer):
        assert f'href="{reverse("transparency:report", args=[report.pk])}"' in page
        assert f'href="{reverse("transparency:report_pdf", args=[report.pk])}"' in page
    assert page.index(newer.title) < page.index(older.title), "newest first"
    assert "No report has been published yet." not in page


def test_the_report_page_shows_each_table_with_fewer_than_5_for_a_count_left_out(city, anonymous):
    """S2.6: small counts that could single a person out are not published."""
    report = publish_report(by=city.designee)

    response = anonymous.get(reverse("transparency:report", args=[report.pk]))

    page = response.content.decode()
    text = _text(response)
    assert "<caption>Accounts by system</caption>" in page
    assert '<th scope="col">System</th>' in page and '<th scope="row">Citywide VMS</th>' in page
    assert "Citywide VMS 12" in text
    assert "Plate Readers fewer than 5" in text
    assert "Median 3.5" in text
    assert report.pdf_sha256 in text


def test_the_pdf_is_served_as_published_once_its_hash_is_checked(city, anonymous):
    """S2.5c"""
    content = pdf_with_text("Citywide report")
    report = publish_report(by=city.designee, title="Citywide report: first half, 2026", content=content)

    response = anonymous.get(reverse("transparency:report_pdf", args=[report.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="citywide-report-first-half-2026.pdf"'
    body = b"".join(response.streaming_content)
    assert body == content and hashlib.sha256(body).hexdigest() == report.pdf_sha256


def test_a_tampered_pdf_is_refused_and_the_failure_is_recorded(city, anonymous):
    report = publish_report(by=city.designee)
    with open(report.pdf.path, "ab") as stored:
        stored.write(b"% changed after publication\n")

    response = anonymous.get(reverse("transparency:report_pdf", args=[report.pk]))

    assert response.status_code == 404
    assert "failed its integrity check" in _text(response)
    assert response["Content-Type"].startswith("text/html")
    event = AuditEvent.objects.get(action="report.integrity_failed")
    assert event.target == report.title and event.outcome == "denied" and event.actor is None


def test_a_missing_pdf_is_refused_like_a_tampered_one(city, anonymous):
    report = publish_report(by=city.designee)
    os.remove(report.pdf.path)

    response = anonymous.get(reverse("transparency:report_pdf", args=[report.pk]))

    assert response.status_code == 404
    assert "failed its integrity check" in _text(response)
    assert AuditEvent.objects.filter(action="report.integrity_failed").count() == 1


def test_a_signed_in_visitor_sees_the_page_too_but_no_shared_cache_keeps_it(city, client):
    """The page header names the signed-in person: their copy is private."""
    client.force_login(city.officer)

    response = client.get(reverse("transparency:index"))

    assert response.status_code == 200
    assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]


def test_every_page_links_to_the_transparency_page(city, anonymous, client):
    link = f'href="{reverse("transparency:index")}">Transparency</a>'
    assert link in anonymous.get(reverse("login")).content.decode()
    client.force_login(city.head)
    assert link in client.get(reverse("home")).content.decode()
