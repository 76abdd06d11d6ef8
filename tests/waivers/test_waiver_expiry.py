"""A waiver ends by itself at 00:00, city time, on its end date (S5.1a), with its history, an
audit record and a mail to the asker and the department head; a second run changes nothing."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from conftest import provisioned
from django.conf import settings
from django.utils import timezone

from waivers import services as waiver_services
from waivers.models import Waiver
from portal.models import AuditEvent, IntendedUse, OutgoingEmail

Status = Waiver.Status
FIRST_DAY = date(2031, 6, 12)
END = FIRST_DAY + timedelta(days=3)


def _city_time(day: date, *clock) -> datetime:
    return datetime(day.year, day.month, day.day, *clock, tzinfo=ZoneInfo(settings.TIME_ZONE))


def _waiver(city, directors, *, days=3, decide=True, by=None):
    grant = provisioned(city).grant
    waiver = waiver_services.waiver_request(
        department=city.police, intended_use=IntendedUse.objects.get(code="public-safety"), deviation="Wider area.",
        basis="safety", justification="Stadium event.", grants=[grant], starts_on=FIRST_DAY, days=days,
        by=by or city.head, today=FIRST_DAY,
    )
    if decide:
        waiver = waiver_services.waiver_decide(waiver=waiver, grant=True, reason="Ok.", by=directors.safety, today=FIRST_DAY)
    return waiver


def _at(monkeypatch, moment: datetime):
    monkeypatch.setattr(timezone, "now", lambda: moment)


def test_it_is_in_force_until_midnight_city_time_on_its_end_date_then_ends_by_itself(city, directors, monkeypatch):
    """S5.1a: the last second of the last day it is in force; at 00:00 on the end date it ends."""
    waiver = _waiver(city, directors)
    assert waiver.status == Status.GRANTED

    _at(monkeypatch, _city_time(END - timedelta(days=1), 23, 59, 59))
    assert waiver.is_in_force()
    assert waiver_services.waivers_daily() == 0
    waiver.refresh_from_db()
    assert waiver.status == Status.GRANTED

    _at(monkeypatch, _city_time(END, 0, 0, 0))
    assert not waiver.is_in_force()
    assert waiver_services.waivers_daily() == 1
    waiver.refresh_from_db()
    assert waiver.status == Status.EXPIRED and waiver.ended_by is None
    assert waiver.ended_at == _city_time(END, 0, 0, 0)
    assert waiver.history.filter(history_change_reason="Ended on its end date", history_user=None).exists()
    assert AuditEvent.objects.filter(action="waiver.expire", actor=None).count() == 1
    ended = [m for m in OutgoingEmail.objects.all() if m.subject.startswith("Waiver ended")]
    assert [m.to for m in ended] == [[city.head.email]]


def test_a_second_run_changes_nothing(city, directors):
    waiver = _waiver(city, directors)
    assert waiver_services.waivers_daily(today=END) == 1
    records, events, mails = waiver.history.count(), AuditEvent.objects.count(), OutgoingEmail.objects.count()
    assert waiver_services.waivers_daily(today=END) == 0
    assert waiver_services.waivers_daily(today=END + timedelta(days=40)) == 0
    assert (waiver.history.count(), AuditEvent.objects.count(), OutgoingEmail.objects.count()) == (
        records, events, mails)


def test_the_asker_and_the_head_are_both_told(city, directors):
    """A director asked: the mail goes to them and to the department head."""
    waiver = _waiver(city, directors, by=directors.operations)
    waiver_services.waivers_daily(today=END)
    waiver.refresh_from_db()
    assert waiver.status == Status.EXPIRED
    [mail] = [m for m in OutgoingEmail.objects.all() if m.subject.startswith("Waiver ended")]
    assert sorted(mail.to) == sorted([city.head.email, directors.operations.email])


def test_undecided_and_awaiting_mayor_waivers_end_too_and_revoked_ones_stay_revoked(city, directors):
    requested = _waiver(city, directors, decide=False)
    awaiting = waiver_services.waiver_decide(
        waiver=waiver_services.waiver_request(
            department=city.police, intended_use=IntendedUse.objects.get(code="public-safety"),
            deviation="A long one.", basis="life", justification="Works.", grants=list(requested.grants.all()),
            starts_on=FIRST_DAY, days=40, by=city.head, today=FIRST_DAY),
        grant=True, reason="Long.", by=directors.operations, today=FIRST_DAY)
    assert awaiting.status == Status.AWAITING_MAYOR

    assert waiver_services.waivers_daily(today=END) == 1  # the 40-day one is not due yet
    requested.refresh_from_db()
    assert requested.status == Status.EXPIRED
    assert requested.history.filter(history_change_reason="Ended on its end date without a decision").exists()
    assert waiver_services.waivers_daily(today=FIRST_DAY + timedelta(days=40)) == 1
    awaiting.refresh_from_db()
    assert awaiting.status == Status.EXPIRED and awaiting.substantive_change


def test_a_revoked_waiver_is_not_ended_again(city, directors):
    waiver = waiver_services.waiver_revoke(waiver=_waiver(city, directors), reason="Cancelled.", by=directors.operations)
    assert waiver_services.waivers_daily(today=END) == 0
    waiver.refresh_from_db()
    assert waiver.status == Status.REVOKED and waiver.ended_by == directors.operations
