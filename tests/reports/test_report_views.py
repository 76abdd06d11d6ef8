"""The report pages: read a report live, submit or publish it, download what was published (S2.5b, S2.5c)."""

import hashlib

from django.urls import reverse
from django.utils import timezone

from reports.models import PublishedReport
from portal.models import AuditEvent


def last_year() -> int:
    return timezone.localdate().year - 1


def last_half() -> tuple[int, int]:
    today = timezone.localdate()
    return (today.year, 1) if today.month > 6 else (today.year - 1, 2)


def test_the_head_reads_last_years_report_live_then_submits_it(city, client):
    """S2.5b"""
    client.force_login(city.head)
    url = reverse("reports:department", args=[city.police.pk, last_year()])

    page = client.get(url).content.decode()
    assert "Not published" in page
    assert "Submit this report to the Mayor" in page
    assert "<svg" in page  # the charts are drawn on the server

    response = client.post(reverse("reports:department_publish", args=[city.police.pk, last_year()]), follow=True)

    report = PublishedReport.objects.get()
    assert response.redirect_chain[-1][0] == reverse("reports:detail", args=[report.pk])
    assert "is published" in response.content.decode()
    assert report.pdf_sha256 in response.content.decode()
    assert client.get(url).status_code == 302  # the live page now leads to what was published


def test_the_published_pdf_downloads_with_the_hash_shown_and_the_download_is_recorded(city, client):
    """S2.5b"""
    client.force_login(city.head)
    client.post(reverse("reports:department_publish", args=[city.police.pk, last_year()]))
    report = PublishedReport.objects.get()

    response = client.get(reverse("reports:pdf", args=[report.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert hashlib.sha256(response.content).hexdigest() == report.pdf_sha256
    assert AuditEvent.objects.filter(action="report.download", actor=city.head).exists()


def test_a_tampered_report_is_not_served(city, client):
    client.force_login(city.head)
    client.post(reverse("reports:department_publish", args=[city.police.pk, last_year()]))
    report = PublishedReport.objects.get()
    with open(report.pdf.path, "wb") as handle:
        handle.write(b"%PDF-1.7 forged")

    response = client.get(reverse("reports:pdf", args=[report.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("reports:detail", args=[report.pk])
    assert "does not match its fingerprint" in response.content.decode()
    assert AuditEvent.objects.filter(action="report.integrity_failed", outcome="denied").exists()


def test_the_current_year_can_be_read_but_not_submitted(city, client):
    client.force_login(city.head)
    year = timezone.localdate().year

    page = client.get(reverse("reports:department", args=[city.police.pk, year])).content.decode()
    response = client.post(reverse("reports:department_publish", args=[city.police.pk, year]), follow=True)

    assert "the period is not over yet" in page
    assert "Submit this report to the Mayor" not in page
    assert "is not over yet" in response.content.decode()
    assert not PublishedReport.objects.exists()


def test_the_designee_publishes_the_citywide_report_for_the_public(city, client):
    """S2.5c"""
    client.force_login(city.designee)
    year, half = last_half()

    page = client.get(reverse("reports:city", args=[year, half])).content.decode()
    client.post(reverse("reports:city_publish", args=[year, half]))

    assert "Publish this report for the public" in page
    assert "No personal data is shown" in page
    report = PublishedReport.objects.get()
    assert report.is_public
    assert report.title in client.get(reverse("reports:list")).content.decode()


def test_the_list_opens_the_chosen_department_and_year(city, client):
    client.force_login(city.head)

    response = client.get(reverse("reports:list"), {"department": city.police.pk, "year": last_year()})
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:department", args=[city.police.pk, last_year()])

    response = client.get(reverse("reports:list"), {"department": "police", "year": "last"})
    assert response.status_code == 200
    assert "Choose a department and a year" in response.content.decode()


def test_years_outside_the_portals_records_and_unknown_half_years_answer_404(city, client):
    client.force_login(city.designee)
    assert client.get(reverse("reports:department", args=[city.police.pk, 1999])).status_code == 404
    assert client.get(reverse("reports:department", args=[city.police.pk, timezone.localdate().year + 1])
                      ).status_code == 404
    assert client.get(reverse("reports:city", args=[last_year(), 3])).status_code == 404


def test_another_departments_head_cannot_read_or_submit_the_report(city, client):
    """S2.5b: a department's report is its head's, ITSA's and the designee's to read."""
    client.force_login(city.outsider)
    assert client.get(reverse("reports:department", args=[city.police.pk, last_year()])).status_code == 404
    assert client.post(reverse("reports:department_publish", args=[city.police.pk, last_year()])).status_code == 404
    assert not PublishedReport.objects.exists()
    assert AuditEvent.objects.filter(action="report.view", outcome="denied", actor=city.outsider).count() == 2
