"""The reports of Section 2.5 that are due: which should exist (S2.5b: each authorized department's
annual report; S2.5c: the biannual citywide report), their due dates, the overdue list, and the daily
reminders to the head or the Mayor's designees."""

import hashlib
from datetime import date, datetime, timedelta

import pytest
from conftest import make_pdf
from django.conf import settings
from django.core import mail
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from access_requests.models import DepartmentAccess
from reports.metrics import Period
from reports.models import PublishedReport, ReportReminder
from reports.selectors import reports_due, reports_due_for
from reports.services import reminder_stage, reminders_send
from reports.tasks import remind_reports_due

Kind = PublishedReport.Kind
# Both departments were authorized in 2026 (conftest's city, backdated below): on this day the annual
# reports of 2026 are 14 days overdue (due March 1), the citywide report of July–December 2026 is due
# in 16 days (March 31) and that of January–June 2026 is overdue since September 28, 2026.
TODAY = date(2027, 3, 15)


def _moment(day: date) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, 12))


@pytest.fixture
def authorized_in_2026(city):
    DepartmentAccess.objects.filter(status=DepartmentAccess.Status.GRANTED).update(decided_at=_moment(date(2026, 3, 1)))
    return city


def published(city, kind, period: Period, department=None):
    """A report as publishing leaves it, written directly (the rendering is tested in test_publish)."""
    pdf = make_pdf()
    report = PublishedReport(
        kind=kind, department=department, period_start=period.start, period_end=period.end,
        title=f"Report of {period.label}", is_public=kind == Kind.CITY_BIANNUAL, figures=[],
        published_by=city.designee if department is None else city.head, published_at=timezone.now(),
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
    )
    report.pdf.save("report.pdf", ContentFile(pdf), save=False)
    report.save()
    return report


def _keyed(rows):
    return {(row.kind, row.department.name if row.department else None, row.period.label): row for row in rows}


def test_each_authorized_department_owes_its_annual_report_and_the_city_its_biannual_ones(authorized_in_2026):
    """S2.5b, S2.5c: the annual report of every department authorized during the year, and the citywide
    report of each half-year, with their due dates and how late they are."""
    due = _keyed(reports_due(today=TODAY))
    assert set(due) == {
        (Kind.DEPARTMENT_ANNUAL, "Police Department", "2026"),
        (Kind.DEPARTMENT_ANNUAL, "Streets Department", "2026"),
        (Kind.CITY_BIANNUAL, None, "July–December 2026"),
        (Kind.CITY_BIANNUAL, None, "January–June 2026"),
    }
    police = due[(Kind.DEPARTMENT_ANNUAL, "Police Department", "2026")]
    assert police.due_on == date(2027, 3, 1)
    assert police.is_overdue and police.days_late == 14
    second_half = due[(Kind.CITY_BIANNUAL, None, "July–December 2026")]
    assert second_half.due_on == date(2027, 3, 31)
    assert not second_half.is_overdue and second_half.days_left == 16
    assert due[(Kind.CITY_BIANNUAL, None, "January–June 2026")].due_on == date(2026, 9, 28)


def test_the_due_dates_are_settings(authorized_in_2026, settings):
    """S2.5b: the order gives no date; the portal's days after the period are settings."""
    settings.DEPARTMENT_REPORT_DUE_DAYS = 90
    settings.CITY_REPORT_DUE_DAYS = 30
    due = _keyed(reports_due(today=TODAY))
    assert due[(Kind.DEPARTMENT_ANNUAL, "Police Department", "2026")].due_on == date(2027, 3, 31)
    assert not due[(Kind.DEPARTMENT_ANNUAL, "Police Department", "2026")].is_overdue
    assert due[(Kind.CITY_BIANNUAL, None, "July–December 2026")].due_on == date(2027, 1, 30)


def test_a_published_report_is_no_longer_due(authorized_in_2026):
    """S2.5b, S2.5c: publishing a report takes it off the list."""
    city = authorized_in_2026
    published(city, Kind.DEPARTMENT_ANNUAL, Period.year(2026), city.police)
    published(city, Kind.CITY_BIANNUAL, Period.half(2026, 1))
    due = _keyed(reports_due(today=TODAY))
    assert (Kind.DEPARTMENT_ANNUAL, "Police Department", "2026") not in due
    assert (Kind.CITY_BIANNUAL, None, "January–June 2026") not in due
    assert (Kind.DEPARTMENT_ANNUAL, "Streets Department", "2026") in due


def test_only_departments_authorized_during_the_year_owe_a_report(authorized_in_2026):
    """S2.5b: access revoked before the year began, or granted after it ended, owes nothing; access
    revoked during the year still does; a pending or denied request never does."""
    city = authorized_in_2026
    DepartmentAccess.objects.filter(department=city.streets).update(
        status=DepartmentAccess.Status.REVOKED, revoked_at=_moment(date(2025, 12, 1)))
    police = DepartmentAccess.objects.get(department=city.police)
    police.status = DepartmentAccess.Status.REVOKED
    police.revoked_at = _moment(date(2026, 8, 1))
    police.save()
    due = _keyed(reports_due(today=TODAY))
    assert (Kind.DEPARTMENT_ANNUAL, "Police Department", "2026") in due
    assert (Kind.DEPARTMENT_ANNUAL, "Streets Department", "2026") not in due
    # 2025: the streets held access then (revoked in December), the police did not yet.
    assert (Kind.DEPARTMENT_ANNUAL, "Streets Department", "2025") not in due  # decided in 2026, backdated above
    DepartmentAccess.objects.filter(department=city.streets).update(decided_at=_moment(date(2025, 2, 1)))
    due = _keyed(reports_due(today=TODAY))
    assert (Kind.DEPARTMENT_ANNUAL, "Streets Department", "2025") in due
    assert (Kind.DEPARTMENT_ANNUAL, "Police Department", "2025") not in due


def test_pending_access_owes_no_report(city):
    """S2.5b: a department only asking for access is not an authorized department."""
    DepartmentAccess.objects.update(status=DepartmentAccess.Status.PENDING, decided_at=_moment(date(2026, 3, 1)))
    assert [row for row in reports_due(today=TODAY) if row.kind == Kind.DEPARTMENT_ANNUAL] == []


def test_the_list_is_bounded_and_takes_few_queries(authorized_in_2026, django_assert_max_num_queries):
    """S2.5b, S2.5c: the last two ended years and half-years only, in three queries."""
    DepartmentAccess.objects.update(decided_at=_moment(date(2015, 1, 1)))
    with django_assert_max_num_queries(3):
        due = reports_due(today=TODAY)
    assert {row.period.label for row in due} == {"2026", "2025", "July–December 2026", "January–June 2026"}


def test_a_head_sees_only_the_own_departments_reports_due(authorized_in_2026):
    """S2.5b: the head publishes the department's report; the designee and ITSA see every one."""
    city = authorized_in_2026
    assert {row.department for row in reports_due_for(city.head, today=TODAY)} == {city.police}
    assert len(reports_due_for(city.designee, today=TODAY)) == 4
    assert len(reports_due_for(city.itsa, today=TODAY)) == 4
    assert reports_due_for(city.officer, today=TODAY) == []


# --- Reminders ---------------------------------------------------------------------------------------

def _due_mails():
    return [message for message in mail.outbox if "Annual report of" in message.subject
            or "Citywide report" in message.subject]


@pytest.fixture
def remind(django_capture_on_commit_callbacks):
    def run(today):
        with django_capture_on_commit_callbacks(execute=True):
            return reminders_send(today=today)
    return run


def test_running_the_reminders_twice_a_day_sends_once(authorized_in_2026, remind):
    """S2.5b, S2.5c: the overdue reports are reminded once, whatever the number of runs that day."""
    city = authorized_in_2026
    # The two annual reports 14 days late, the first half-year overdue, the second due in 16 days.
    assert remind(TODAY) == 4
    assert remind(TODAY) == 0
    mails = _due_mails()
    assert len(mails) == 4
    [police] = [m for m in mails if "Police" in m.subject]
    assert police.to == [city.head.email]
    assert police.subject.startswith("Overdue:")
    assert "14 days late" in police.body
    citywide = sorted((m for m in mails if "Citywide" in m.subject), key=lambda m: m.subject)
    assert [m.to for m in citywide] == [[city.designee.email]] * 2
    assert citywide[0].subject == "Due March 31, 2027: Citywide report, July–December 2026"
    assert "16 days left" in citywide[0].body
    assert citywide[1].subject == "Overdue: Citywide report, January–June 2026"
    assert ReportReminder.objects.count() == 4


def test_the_task_sends_the_reminders(authorized_in_2026, django_capture_on_commit_callbacks, settings):
    """S2.5b: the daily beat task runs the reminders, and a second run sends nothing."""
    assert settings.CELERY_BEAT_SCHEDULE["remind-reports-due"]["task"] == "reports.tasks.remind_reports_due"
    DepartmentAccess.objects.update(decided_at=timezone.now() - timedelta(days=800))
    with django_capture_on_commit_callbacks(execute=True):
        first = remind_reports_due.delay().get()
    with django_capture_on_commit_callbacks(execute=True):
        second = remind_reports_due.delay().get()
    assert first > 0 and second == 0
    assert len(_due_mails()) == first


def test_reminders_go_30_and_7_days_before_on_the_day_then_weekly(authorized_in_2026, remind):
    """S2.5b: 30 days and 7 days before the due date, on it, then once a week while overdue."""
    city = authorized_in_2026
    # Only the police's annual report of 2026 (due March 1, 2027) is followed here.
    published(city, Kind.DEPARTMENT_ANNUAL, Period.year(2026), city.streets)
    for half in (Period.half(2026, 1), Period.half(2026, 2), Period.half(2025, 2)):
        published(city, Kind.CITY_BIANNUAL, half)
    due_on = date(2027, 3, 1)
    sent = {}
    for offset in range(-35, 25):
        day = due_on + timedelta(days=offset)
        if remind(day):
            sent[offset] = ReportReminder.objects.get(sent_on=day, department=city.police).stage
    assert sent == {-30: "before-30", -7: "before-7", 0: "due", 7: "late-1", 14: "late-2", 21: "late-3"}
    assert all(m.to == [city.head.email] for m in _due_mails())


def test_a_missed_day_sends_the_latest_reminder_only(authorized_in_2026):
    """S2.5b: after days without a run, one reminder, not one for every stage missed."""
    [police] = [row for row in reports_due(today=date(2027, 2, 26)) if row.department == authorized_in_2026.police]
    assert reminder_stage(police) == "before-7"
    [police] = [row for row in reports_due(today=date(2027, 3, 3)) if row.department == authorized_in_2026.police]
    assert reminder_stage(police) == "due"
    [police] = [row for row in reports_due(today=date(2027, 1, 15)) if row.department == authorized_in_2026.police]
    assert reminder_stage(police) is None


def test_the_same_reminder_is_never_recorded_twice(authorized_in_2026):
    """S2.5b: the record is unique per stage and per day: two runs at once cannot both send."""
    from django.db import IntegrityError, transaction

    city = authorized_in_2026
    ReportReminder.objects.create(kind=Kind.CITY_BIANNUAL, period_start=date(2026, 1, 1), stage="late-3",
                                  sent_on=TODAY)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReportReminder.objects.create(kind=Kind.CITY_BIANNUAL, period_start=date(2026, 1, 1), stage="late-4",
                                      sent_on=TODAY)
    ReportReminder.objects.create(kind=Kind.DEPARTMENT_ANNUAL, department=city.police,
                                  period_start=date(2026, 1, 1), stage="due", sent_on=TODAY)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReportReminder.objects.create(kind=Kind.DEPARTMENT_ANNUAL, department=city.police,
                                      period_start=date(2026, 1, 1), stage="due", sent_on=TODAY + timedelta(days=1))


# --- Pages ---------------------------------------------------------------------------------------

@pytest.fixture
def authorized_long_ago(city):
    DepartmentAccess.objects.update(decided_at=timezone.now() - timedelta(days=800))
    return city


def test_the_reports_page_lists_the_reports_due_and_marks_the_overdue_in_words(authorized_long_ago, client):
    """S2.5b: the head sees the department's own reports due, overdue said in words."""
    city = authorized_long_ago
    client.force_login(city.head)
    page = client.get(reverse("reports:list")).content.decode()
    assert "Due and overdue" in page
    last_year = timezone.localdate().year - 1
    assert f"Annual report of Police Department, {last_year}" in page
    assert "Overdue:" in page or "Due in" in page
    assert "Streets Department, " not in page
    assert "Citywide report, " not in page


def test_the_designee_sees_every_report_due(authorized_long_ago, client):
    """S2.5b, S2.5c: the designee sees the departments' reports and the citywide ones."""
    city = authorized_long_ago
    client.force_login(city.designee)
    page = client.get(reverse("reports:list")).content.decode()
    assert "Annual report of Streets Department" in page
    assert "Annual report of Police Department" in page
    assert "Citywide report, " in page
    two_years_ago = timezone.localdate().year - 2
    assert f"Annual report of Police Department, {two_years_ago}" in page
    assert "Overdue:" in page


def test_the_designees_dashboard_counts_the_reports_overdue(authorized_long_ago):
    """S2.5b, S2.5c: the "to decide" panel shows the reports overdue to the Mayor's designee."""
    from pages.selectors import to_decide

    city = authorized_long_ago
    [row] = [row for row in to_decide(city.designee) if row.label.startswith("Reports overdue")]
    assert row.count == sum(r.is_overdue for r in reports_due())
    assert row.count >= 2
    assert not [row for row in to_decide(city.head) if row.label.startswith("Reports overdue")]


def test_due_days_defaults():
    """S2.5b: 60 days after the year, 90 after the half-year, unless set otherwise."""
    assert settings.DEPARTMENT_REPORT_DUE_DAYS == 60
    assert settings.CITY_REPORT_DUE_DAYS == 90


def test_people_who_publish_no_report_see_no_due_list(authorized_long_ago, client):
    """S2.5b: an officer neither writes nor reads the reports due."""
    client.force_login(authorized_long_ago.officer)
    page = client.get(reverse("reports:list")).content.decode()
    assert "Due and overdue" not in page


def test_the_reports_due_come_a_page_at_a_time(authorized_long_ago, client, settings):
    """S2.5b: the list of reports due grows with the departments and the years: it is shown a page at a
    time, and the next page holds the rest."""
    settings.PAGE_SIZE = 2
    city = authorized_long_ago
    client.force_login(city.designee)
    due = reports_due_for(city.designee)
    assert len(due) > 2

    first = client.get(reverse("reports:list")).content.decode()
    second = client.get(reverse("reports:list"), {"due_page": 2}).content.decode()

    assert f"Reports not published yet ({len(due)})" in first
    assert due[0].label in first and due[2].label not in first
    assert due[2].label in second and "Next page of reports due" in first
