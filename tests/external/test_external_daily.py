"""The daily service of external connections (S3.6a): the renewal notice thirty days before the end
date, once; the end at 00:00, city time, on the end date, once, with ITSA told to close it."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone
from external_helpers import approved, ask

from external import tasks
from external.models import ExternalConnection
from external.services import external_connection_decide, external_connections_daily
from portal.models import AuditEvent, OutgoingEmail

TODAY = date(2030, 7, 1)


def _subjects(start):
    return list(OutgoingEmail.objects.filter(subject__startswith=start).order_by("pk").values_list("subject", "to"))


@pytest.fixture
def connection(city):
    """Approved on TODAY for 90 days."""
    return approved(city, today=TODAY)


# --- The renewal notice -------------------------------------------------------------------------------

def test_no_notice_31_days_before_the_end(connection):
    """S3.6a"""
    assert external_connections_daily(today=connection.ends_on - timedelta(days=31)) == {
        "expired": 0, "renewal_notices": 0}
    connection.refresh_from_db()
    assert connection.renewal_notice_sent_at is None
    assert _subjects("Renew by") == []


def test_the_notice_goes_to_the_head_and_the_designees_30_days_before_the_end_once(city, connection):
    """S3.6a: approved connections come up for renewal."""
    day = connection.ends_on - timedelta(days=30)

    assert external_connections_daily(today=day)["renewal_notices"] == 1
    assert external_connections_daily(today=day)["renewal_notices"] == 0
    assert external_connections_daily(today=day + timedelta(days=1))["renewal_notices"] == 0

    connection.refresh_from_db()
    assert connection.renewal_notice_sent_at is not None
    [(subject, to)] = _subjects("Renew by")
    assert "Transit station cameras" in subject
    assert sorted(to) == sorted([city.head.email, city.designee.email])
    assert AuditEvent.objects.filter(action="external_connection.renewal_notice").count() == 1
    assert connection.status == ExternalConnection.Status.APPROVED


def test_a_missed_day_still_sends_the_notice_once(connection):
    """S3.6a: the hourly run that comes after a missed day catches up."""
    assert external_connections_daily(today=connection.ends_on - timedelta(days=12))["renewal_notices"] == 1
    assert external_connections_daily(today=connection.ends_on - timedelta(days=11))["renewal_notices"] == 0


def test_no_notice_when_a_renewal_is_already_asked_for(city, connection):
    ask(city, renews=connection, starts_on=connection.ends_on, today=TODAY)

    assert external_connections_daily(today=connection.ends_on - timedelta(days=30))["renewal_notices"] == 0


def test_the_notice_is_not_in_the_connections_history(connection):
    records = connection.history.count()

    external_connections_daily(today=connection.ends_on - timedelta(days=30))

    assert connection.history.count() == records


# --- The end --------------------------------------------------------------------------------------------

def test_it_runs_until_the_day_before_its_end_date(connection):
    assert external_connections_daily(today=connection.ends_on - timedelta(days=1))["expired"] == 0
    connection.refresh_from_db()
    assert connection.status == ExternalConnection.Status.APPROVED


def test_it_ends_on_its_end_date_itsa_is_told_and_a_second_run_changes_nothing(city, connection):
    """S3.6a: approved connections have an end date."""
    assert external_connections_daily(today=connection.ends_on) == {"expired": 1, "renewal_notices": 0}
    events, mails, records = AuditEvent.objects.count(), OutgoingEmail.objects.count(), connection.history.count()

    assert external_connections_daily(today=connection.ends_on) == {"expired": 0, "renewal_notices": 0}
    assert external_connections_daily(today=connection.ends_on + timedelta(days=3))["expired"] == 0

    connection.refresh_from_db()
    assert connection.status == ExternalConnection.Status.EXPIRED
    assert (AuditEvent.objects.count(), OutgoingEmail.objects.count(), connection.history.count()) == (
        events, mails, records)
    [(subject, to)] = _subjects("Close the connection")
    assert sorted(to) == sorted([city.itsa.email, city.itsa2.email])
    assert AuditEvent.objects.filter(action="external_connection.expire", actor=None).count() == 1
    latest = connection.history.first()
    assert latest.status == "expired" and latest.history_change_reason.startswith("Ended at 00:00")


def test_the_end_comes_at_midnight_city_time(connection, monkeypatch):
    """S3.6a: at 23:59:59 in the city the day before, it is already the end date in UTC, and it runs on."""
    city_zone = ZoneInfo(settings.TIME_ZONE)
    eve = datetime.combine(connection.ends_on - timedelta(days=1), datetime.max.time(), tzinfo=city_zone)
    assert eve.astimezone(ZoneInfo("UTC")).date() == connection.ends_on

    monkeypatch.setattr(timezone, "now", lambda: eve)
    assert external_connections_daily()["expired"] == 0
    connection.refresh_from_db()
    assert connection.status == ExternalConnection.Status.APPROVED

    midnight = datetime.combine(connection.ends_on, datetime.min.time(), tzinfo=city_zone)
    monkeypatch.setattr(timezone, "now", lambda: midnight)
    assert external_connections_daily()["expired"] == 1
    connection.refresh_from_db()
    assert connection.status == ExternalConnection.Status.EXPIRED


def test_only_approved_connections_end(city):
    pending = ask(city, today=TODAY)
    denied = external_connection_decide(connection=ask(city, today=TODAY, name="Other"), approve=False,
                                        reason="No.", by=city.designee, today=TODAY)

    assert external_connections_daily(today=pending.ends_on + timedelta(days=1))["expired"] == 0
    assert {c.status for c in ExternalConnection.objects.filter(pk__in=[pending.pk, denied.pk])} == {
        "pending", "denied"}


def test_an_approved_renewal_takes_over_and_itsa_keeps_the_connection_open(city, connection):
    """S3.6a: approving a renewal leaves the old connection running to its own end."""
    renewal = ask(city, renews=connection, starts_on=connection.ends_on,
                  ends_on=connection.ends_on + timedelta(days=365), today=TODAY)
    external_connection_decide(connection=renewal, approve=True, reason="Still needed.", by=city.designee, today=TODAY)

    assert external_connections_daily(today=connection.ends_on)["expired"] == 1

    connection.refresh_from_db()
    renewal.refresh_from_db()
    assert (connection.status, renewal.status) == ("expired", "approved")
    assert _subjects("Close the connection") == []
    [(subject, _)] = _subjects("Renewed:")
    assert "continues under its renewal" in subject


def test_the_task_calls_the_daily_service(connection, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: connection.ends_on)

    assert tasks.external_connections_daily.delay().get() == {"expired": 1, "renewal_notices": 0}
    connection.refresh_from_db()
    assert connection.status == ExternalConnection.Status.EXPIRED
