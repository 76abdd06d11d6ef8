"""Each document downloaded in Chromium: the written request, the validation attestation, the
department's annual report and the public citywide report, each page scanned with axe-core.

A stored document (the written request, a published report) is checked byte for byte: the file the
browser saves has the SHA-256 the page shows and the portal keeps."""

import hashlib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import PASSWORD, file_request, pdf_text, provisioned
from django.utils import timezone
from playwright.sync_api import expect

from access_requests.models import AccessRequest, WrittenRequest
from accounts.models import Grant
from reports.metrics import Period
from reports.models import PublishedReport
from audits.services import open_due_validations, validation_item_decide

from browser_helpers import assert_accessible, go_by_menu, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def download(page, link) -> tuple[str, bytes]:
    """Click the link; the name the browser suggests and the bytes it saved."""
    with page.expect_download() as info:
        link.click()
    saved = info.value
    return saved.suggested_filename, Path(saved.path()).read_bytes()


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def test_the_requester_downloads_the_written_request_as_it_was_filed(page, city):
    """S3.4d: the PDF saved by the browser is the one kept at filing, with the hash the page shows."""
    request = file_request(city, justification="Review footage of the market burglaries.")
    written = WrittenRequest.objects.get(request=request)

    sign_in(page, city.requester, PASSWORD)
    go_by_menu(page, "Access", "Access requests")
    page.get_by_role("link", name=request.reference).first.click()
    expect(page.get_by_role("heading", name="Written request", level=2)).to_be_visible()
    assert_accessible(page, "the filed request")

    shown = page.locator("code.fingerprint").first.inner_text().strip()
    name, content = download(page, page.get_by_role(
        "link", name=f"Download the written request {request.reference} (PDF)"))

    assert name == f"{request.reference}.pdf"
    assert sha256(content) == shown == written.sha256
    assert "Review footage of the market burglaries." in pdf_text(content)


def test_the_head_downloads_the_attestation_from_the_validation_page(page, city):
    """S3.4e S3.4f: the head signs the validation off on its page, then downloads the attestation there."""
    provisioned(city)
    [validation] = open_due_validations()
    [item] = validation.items.all()
    validation_item_decide(item=item, decision="keep", by=city.head)

    sign_in(page, city.head, PASSWORD)
    go_by_menu(page, "Access", "Validations")
    page.get_by_role("link", name=f"Annual validation of {city.police.name}").first.click()
    expect(page.get_by_role("heading", name=f"Annual validation of {city.police.name}", level=1)).to_be_visible()
    page.get_by_label("Enter your password to sign").fill(PASSWORD)
    page.get_by_role("button", name="Sign off").click()
    expect(page.get_by_text(f"Signed by {city.head.full_name}")).to_be_visible()
    assert_accessible(page, "the signed-off validation")

    name, content = download(page, page.get_by_role("link", name="Download the attestation (PDF)"))

    assert name.endswith(".pdf")
    text = pdf_text(content)
    assert f"Annual validation of {city.police.name}" in text
    assert city.officer.full_name in text
    assert f"Signed by {city.head.full_name}" in text


def _move_to_last_year(request: AccessRequest) -> None:
    """The services stamp their work now: move this request and its grant back a year, a day apart."""
    filed = timezone.now().replace(year=timezone.localdate().year - 1, month=3, day=2, hour=15)
    AccessRequest.objects.filter(pk=request.pk).update(
        submitted_at=filed, approved_at=filed + timedelta(hours=1), processed_at=filed + timedelta(days=1))
    Grant.objects.filter(pk=request.grant_id).update(provisioned_at=filed + timedelta(days=1))


def test_the_head_submits_last_years_annual_report_and_downloads_its_pdf(page, city):
    """S2.5b: the head opens last year's report, submits it to the Mayor, and downloads the frozen PDF."""
    _move_to_last_year(provisioned(city))
    last_year = timezone.localdate().year - 1
    title = f"Annual report of {city.police.name} on surveillance technology, {last_year}"

    sign_in(page, city.head, PASSWORD)
    go_by_menu(page, "Reports", "Annual and citywide reports")
    expect(page.get_by_role("heading", name="Reports", level=1)).to_be_visible()
    page.get_by_label("Department").select_option(label=city.police.name)
    page.get_by_label("Year").select_option(str(last_year))
    page.get_by_role("button", name="Open the annual report").click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(rf"^{re.escape(city.vms.name)} 1$"))).to_be_visible()
    assert_accessible(page, "the annual report before it is submitted")

    page.get_by_role("button", name="Submit this report to the Mayor").click()
    expect(page.get_by_text(f"“{title}” is published.")).to_be_visible()
    assert_accessible(page, "the submitted annual report")

    report = PublishedReport.objects.get(kind=PublishedReport.Kind.DEPARTMENT_ANNUAL, department=city.police)
    shown = page.locator("code.fingerprint").inner_text().strip()
    name, content = download(page, page.get_by_role("link", name="Download the report (PDF)"))

    assert name.endswith(".pdf")
    assert sha256(content) == shown == report.pdf_sha256
    text = pdf_text(content)
    assert title in text
    assert city.vms.name in text


def test_the_designee_publishes_the_citywide_report_and_a_visitor_downloads_it(page, city):
    """S2.5c S2.6: published by the Mayor's designee, then found and downloaded with no sign-in."""
    today = timezone.localdate()
    last_half = Period.half(today.year, 1) if today.month > 6 else Period.half(today.year - 1, 2)
    title = f"Citywide report on surveillance technology, {last_half.label}"

    sign_in(page, city.designee, PASSWORD)
    go_by_menu(page, "Reports", "Annual and citywide reports")
    page.get_by_role("link", name=last_half.label, exact=True).click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    assert_accessible(page, "the citywide report before it is published")
    page.get_by_role("button", name="Publish this report for the public").click()
    expect(page.get_by_text(f"“{title}” is published.")).to_be_visible()
    report = PublishedReport.objects.get(kind=PublishedReport.Kind.CITY_BIANNUAL)
    assert report.is_public

    page.context.clear_cookies()
    page.goto("/transparency/")
    expect(page.get_by_role("heading", name="Surveillance transparency", level=1)).to_be_visible()
    assert_accessible(page, "the transparency page with the report")
    page.get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    assert_accessible(page, "the public report")

    shown = page.locator(".fingerprint code").inner_text().strip()
    name, content = download(page, page.get_by_role("link", name="Download the report as PDF"))

    assert name.endswith(".pdf")
    assert sha256(content) == shown == report.pdf_sha256
    text = pdf_text(content)
    assert title in text
    for person in (city.head, city.requester, city.designee, city.itsa):
        assert person.full_name not in text and person.email not in text
