"""No personal data on the public pages or in their downloads (S2.6): a city with people, grants
and the citywide report published from its real figures, every public URL fetched, and not one
name, e-mail address or account name found."""

import html
import io
from datetime import timedelta

import pytest
from conftest import provisioned
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from public_helpers import published_version
from pypdf import PdfReader

from access_requests.models import AccessRequest
from accounts.models import DESIGNEE_GROUP, Grant, User
from reports.metrics import Period
from reports.models import PublishedReport
from reports.services import report_publish


def _last_half_year() -> Period:
    today = timezone.localdate()
    return Period.half(today.year, 1) if today.month > 6 else Period.half(today.year - 1, 2)


@pytest.fixture
def public_city(city):
    """The city with grants of several people, filed and provisioned within the last half-year that
    is over, the policy published, and the citywide report of that half-year published."""
    provisioned(city)
    provisioned(city, person=city.analyst, uses=[city.crime_detection, city.investigations])
    provisioned(city, person=city.requester, role="administrator", by=city.head)
    period = _last_half_year()
    within = period.start_at + timedelta(days=30)
    Grant.objects.update(provisioned_at=within + timedelta(days=2))
    AccessRequest.objects.update(submitted_at=within, approved_at=within + timedelta(days=1),
                                 processed_at=within + timedelta(days=2))
    published_version(city)
    report = report_publish(kind=PublishedReport.Kind.CITY_BIANNUAL, period=period, by=city.designee)
    return city, report


def _public_documents(report) -> dict[str, str]:
    """Every public URL as a visitor who is not signed in reads it."""
    visitor = Client()
    documents = {}
    for name, args in (("transparency:index", []), ("transparency:report", [report.pk]),
                       ("transparency:open_data_csv", []), ("transparency:open_data_json", [])):
        response = visitor.get(reverse(name, args=args))
        assert response.status_code == 200, name
        documents[name] = html.unescape(response.content.decode())
    response = visitor.get(reverse("transparency:report_pdf", args=[report.pk]))
    assert response.status_code == 200
    pdf = PdfReader(io.BytesIO(b"".join(response.streaming_content)))
    documents["transparency:report_pdf"] = "\n".join(page.extract_text() for page in pdf.pages)
    return documents


def _personal_data() -> list[str]:
    return (
        list(User.objects.values_list("full_name", flat=True))
        + list(User.objects.values_list("email", flat=True))
        + [account for account in Grant.objects.values_list("account_name", flat=True) if account]
    )


def _assert_no_personal_data(documents: dict[str, str], personal: list[str]) -> None:
    for name, text in documents.items():
        lowered = text.lower()
        found = [value for value in personal if value.lower() in lowered]
        assert not found, f"{name} shows personal data: {found}"


def test_no_public_page_or_download_names_a_person_or_an_account(public_city):
    """S2.6: no personal data, ever: names, e-mails and account names never appear."""
    city, report = public_city
    personal = _personal_data()
    assert Grant.objects.count() == 3 and len(personal) >= 20

    _assert_no_personal_data(_public_documents(report), personal)


def test_none_of_the_demo_citys_people_appears_on_a_public_page_or_download(db):
    """S2.6: the seeded demo city, its activity moved into the last half-year that is over and its
    citywide report published: no name, e-mail or account name of anyone seeded is public."""
    call_command("seed_demo", stdout=io.StringIO())
    period = _last_half_year()
    within = period.start_at + timedelta(days=20)
    Grant.objects.update(provisioned_at=within + timedelta(days=3))
    AccessRequest.objects.update(submitted_at=within, approved_at=within + timedelta(days=1),
                                 processed_at=within + timedelta(days=3))
    designee = User.objects.filter(groups__name=DESIGNEE_GROUP).first()
    report = report_publish(kind=PublishedReport.Kind.CITY_BIANNUAL, period=period, by=designee)
    personal = _personal_data()
    assert Grant.objects.exists() and len(personal) >= 10

    documents = _public_documents(report)

    summary = {row["label"]: row["value"] for row in report.figures[0]["rows"]}
    assert summary["Requests filed"] != 0, "the scanned report holds the demo's real figures"
    _assert_no_personal_data(documents, personal)


def test_the_scan_reads_the_real_figures_of_the_report(public_city):
    """The scan above looks at pages that hold the report's figures, not at empty pages."""
    city, report = public_city

    documents = _public_documents(report)

    assert "Citywide VMS" in documents["transparency:report"]
    assert "Citywide VMS" in documents["transparency:open_data_csv"]
    assert "Citywide VMS" in documents["transparency:report_pdf"]
    assert "fewer than 5" in documents["transparency:report"]
    assert report.title in documents["transparency:index"]
