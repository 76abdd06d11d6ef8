"""The public transparency page in Chromium, for a visitor who never signs in: from the footer link
to a report and its downloads, each page scanned with axe-core."""

import csv
import hashlib
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect
from public_helpers import publish_report, published_version

from browser_helpers import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_visitor_reads_the_policy_and_a_public_report_and_downloads_its_pdf_and_the_open_data(page, city):
    """S2.4 S2.5c S2.6: the policy with its change log, the public report and the open data, no sign-in."""
    published_version(city)
    report = publish_report(by=city.designee)

    page.goto("/accounts/login/")
    page.get_by_role("link", name="Transparency", exact=True).click()
    expect(page.get_by_role("heading", name="Surveillance transparency", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Version 1.0: Surveillance policy, version 1.0", level=3)).to_be_visible()
    expect(page.get_by_text("Substantive", exact=True)).to_be_visible()
    expect(page.get_by_text("Non-substantive", exact=True)).to_be_visible()
    assert_accessible(page, "the transparency page")

    with page.expect_download() as pdf_download:
        page.get_by_role("link", name=f"PDF of {report.title}").click()
    pdf = Path(pdf_download.value.path()).read_bytes()
    assert hashlib.sha256(pdf).hexdigest() == report.pdf_sha256

    with page.expect_download() as csv_download:
        page.get_by_role("link", name="Figures of the public reports as CSV").click()
    rows = list(csv.reader(io.StringIO(Path(csv_download.value.path()).read_text(encoding="utf-8"))))
    assert rows[0] == ["report", "period_start", "period_end", "table", "label", "value"]
    assert "fewer than 5" in [row[5] for row in rows]

    page.get_by_role("link", name=report.title, exact=True).click()
    expect(page.get_by_role("heading", name=report.title, level=1)).to_be_visible()
    plate_readers = page.get_by_role("row", name="Plate Readers")
    expect(plate_readers.get_by_role("cell")).to_have_text("fewer than 5")
    assert_accessible(page, "a public report")


def test_the_page_with_nothing_published_yet_is_accessible(page, transactional_db):
    page.goto("/transparency/")
    expect(page.get_by_text("No report has been published yet.")).to_be_visible()
    assert_accessible(page, "the empty transparency page")
