"""Publishing the reports of Section 2.5: the department's annual report to the Mayor (S2.5b) and the
biannual citywide report for the public (S2.5c), frozen once published."""

import hashlib
from datetime import timedelta

import pytest
from conftest import PASSWORD, pdf_text, provisioned
from django.utils import timezone

from accounts.models import Grant, User
from reports.metrics import Period
from reports.models import PublishedReport
from reports.services import may_publish, report_publish
from reports.selectors import report_is_intact, reports_visible_to
from portal.errors import NotAllowed, RuleViolation
from portal.models import AuditEvent, OutgoingEmail

Kind = PublishedReport.Kind


def last_year() -> Period:
    return Period.year(timezone.localdate().year - 1)


def last_half() -> Period:
    today = timezone.localdate()
    return Period.half(today.year, 1) if today.month > 6 else Period.half(today.year - 1, 2)


@pytest.fixture
def grants_last_year(city):
    """Five end-user grants on the VMS, provisioned in the middle of last year."""
    done = [provisioned(city)]
    for number in range(4):
        person = User.objects.create_user(email=f"patrol{number}@city.test", password=PASSWORD,
                                          full_name=f"Patrol Officer {number}", department=city.police)
        done.append(provisioned(city, person=person))
    moment = timezone.make_aware(timezone.datetime(timezone.localdate().year - 1, 6, 15, 12))
    Grant.objects.filter(pk__in=[r.grant_id for r in done]).update(provisioned_at=moment)
    return done


def test_the_head_submits_the_annual_report_and_it_is_frozen_with_its_hash(city, grants_last_year,
                                                                             django_capture_on_commit_callbacks):
    """S2.5b: the figures come from the records; the PDF and its SHA-256 are kept."""
    with django_capture_on_commit_callbacks(execute=True):
        report = report_publish(kind=Kind.DEPARTMENT_ANNUAL, department=city.police, period=last_year(), by=city.head)

    content = report.pdf.read()
    assert report.pdf_sha256 == hashlib.sha256(content).hexdigest()
    assert report_is_intact(report)
    assert not report.is_public
    summary = {row["label"]: row["value"] for row in report.figures[0]["rows"]}
    assert summary["Grants at the end of the period"] == 5
    text = pdf_text(content)
    assert f"Annual report of {city.police.name}" in text
    assert city.vms.name in text
    assert AuditEvent.objects.filter(action="report.publish", actor=city.head).exists()
    mail = OutgoingEmail.objects.get(subject__contains="annual report")
    assert mail.to == [city.designee.email]


def test_a_published_report_does_not_change_when_the_records_do(city, grants_last_year):
    """S2.5b: published means frozen: later grants change neither the figures nor the file."""
    report = report_publish(kind=Kind.DEPARTMENT_ANNUAL, department=city.police, period=last_year(), by=city.head)
    figures, fingerprint = report.figures, report.pdf_sha256
    Grant.objects.update(provisioned_at=timezone.now() - timedelta(days=800))

    report.refresh_from_db()
    assert report.figures == figures
    assert report.pdf_sha256 == fingerprint
    assert report_is_intact(report)


def test_a_report_is_published_once(city):
    report_publish(kind=Kind.DEPARTMENT_ANNUAL, department=city.police, period=last_year(), by=city.head)
    with pytest.raises(RuleViolation, match="already published"):
        report_publish(kind=Kind.DEPARTMENT_ANNUAL, department=city.police, period=last_year(), by=city.head)
    assert PublishedReport.objects.count() == 1


def test_a_period_that_is_not_over_cannot_be_published(city):
    this_year = Period.year(timezone.localdate().year)
    with pytest.raises(RuleViolation, match="not over yet"):
        report_publish(kind=Kind.DEPARTMENT_ANNUAL, department=city.police, period=this_year, by=city.head)
    assert not PublishedReport.objects.exists()


def test_only_the_head_submits_the_department_report_and_only_the_designee_publishes_the_citywide_one(city):
    """S2.5b S2.5c"""
    for person in (city.requester, city.outsider, city.itsa, city.designee):
        with pytest.raises(NotAllowed):
            report_publish(kind=Kind.DEPARTMENT_ANNUAL, department=city.police, period=last_year(), by=person)
    for person in (city.head, city.itsa, city.requester):
        with pytest.raises(NotAllowed):
            report_publish(kind=Kind.CITY_BIANNUAL, period=last_half(), by=person)
    assert not PublishedReport.objects.exists()
    assert AuditEvent.objects.filter(action="report.publish", outcome="denied").count() == 7
    assert may_publish(kind=Kind.CITY_BIANNUAL, department=None, user=city.designee)
    assert may_publish(kind=Kind.DEPARTMENT_ANNUAL, department=city.police, user=city.head)


def test_the_citywide_report_is_public_and_hides_counts_below_five(city, grants_last_year):
    """S2.5c S2.6: the public report shows small counts as fewer than 5 and names nobody."""
    Grant.objects.update(provisioned_at=timezone.make_aware(timezone.datetime(last_half().start.year,
                                                                              last_half().start.month, 10, 9)))
    report = report_publish(kind=Kind.CITY_BIANNUAL, period=last_half(), by=city.designee)

    assert report.is_public and report.department is None
    by_system = {row["label"]: row["value"] for table in report.figures if table["key"] == "grants_by_system"
                 for row in table["rows"]}
    assert by_system[city.vms.name] == 5
    text = pdf_text(report.pdf.read())
    assert "fewer than 5" in text
    for person in (city.officer, city.head, city.designee, city.requester):
        assert person.full_name not in text and person.email not in text


def test_the_period_must_be_a_calendar_year_or_a_half_year(city):
    odd = Period(last_year().start, last_year().start + timedelta(days=40))
    with pytest.raises(RuleViolation, match="calendar year"):
        report_publish(kind=Kind.DEPARTMENT_ANNUAL, department=city.police, period=odd, by=city.head)
    with pytest.raises(RuleViolation, match="half-year"):
        report_publish(kind=Kind.CITY_BIANNUAL, period=last_year(), by=city.designee)


def test_a_tampered_report_file_is_noticed(city):
    report = report_publish(kind=Kind.DEPARTMENT_ANNUAL, department=city.police, period=last_year(), by=city.head)
    with open(report.pdf.path, "ab") as handle:
        handle.write(b"%% appended")
    assert not report_is_intact(report)


def test_heads_see_their_departments_reports_and_the_public_ones(city):
    own = report_publish(kind=Kind.DEPARTMENT_ANNUAL, department=city.police, period=last_year(), by=city.head)
    other = report_publish(kind=Kind.DEPARTMENT_ANNUAL, department=city.streets, period=last_year(), by=city.outsider)
    public = report_publish(kind=Kind.CITY_BIANNUAL, period=last_half(), by=city.designee)

    assert set(reports_visible_to(city.head)) == {own, public}
    assert set(reports_visible_to(city.outsider)) == {other, public}
    assert set(reports_visible_to(city.designee)) == {own, other, public}
    assert set(reports_visible_to(city.itsa)) == {own, other, public}
    assert set(reports_visible_to(city.officer)) == {public}
