"""Reminders and escalation (S3.4e S3.4f): one digest to the head at 14, 7 and 2 days before the due
date and on the day, each exactly once and only while items are undecided; after the due date, one
escalation to the Mayor's designee and ITSA. Mail leaves after the commit."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import provisioned
from django.core import mail
from django.utils import timezone

from audits.models import ReminderSent, Validation, ValidationItem
from audits.services import open_due_validations, send_reminders, validation_item_decide, validation_keep_all

CHICAGO = ZoneInfo("America/Chicago")
OPENED = date(2026, 5, 1)
DUE = date(2026, 5, 31)
REMINDER = "Reminder: 2 accesses to validate for Police Department by May 31, 2026"
OVERDUE = "Overdue validation: Police Department (2 undecided)"


@pytest.fixture
def validation(city):
    """Opened on 1 May 2026, due 31 May, with the officer's and the analyst's access undecided."""
    provisioned(city)
    provisioned(city, person=city.analyst)
    [validation] = open_due_validations(today=OPENED)
    assert validation.due_date == DUE
    return validation


@pytest.fixture
def remind(django_capture_on_commit_callbacks):
    """Run the reminders for a day and send what they enqueued; return the messages sent."""
    def run(today=None):
        before = len(mail.outbox)
        with django_capture_on_commit_callbacks(execute=True):
            send_reminders(today=today)
        return mail.outbox[before:]
    return run


def _days(first: date, last: date):
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _offsets(validation):
    return sorted(ReminderSent.objects.filter(validation=validation).values_list("days_before_due", flat=True))


def test_the_head_gets_one_digest_at_14_7_2_and_0_days_before_the_due_date(city, validation, remind):
    """S3.4f: run every day, twice a day, from the opening to the due date."""
    sent_on = {}
    for day in _days(OPENED, DUE):
        for message in remind(day) + remind(day):
            sent_on.setdefault(day, []).append(message)

    assert sorted(sent_on) == [date(2026, 5, 17), date(2026, 5, 24), date(2026, 5, 29), DUE]
    for day, messages in sent_on.items():
        assert len(messages) == 1
        assert messages[0].to == [city.head.email]
        assert messages[0].subject == REMINDER
    assert _offsets(validation) == [0, 2, 7, 14]


def test_calling_the_reminders_twice_the_same_day_sends_once(city, validation, remind):
    """S3.4f"""
    assert len(remind(date(2026, 5, 24))) == 1
    assert remind(date(2026, 5, 24)) == []
    assert send_reminders(today=date(2026, 5, 24)) == 0
    assert _offsets(validation) == [7]


def test_no_reminder_goes_out_before_the_first_offset(city, validation, remind):
    """S3.4f"""
    for day in _days(OPENED, date(2026, 5, 16)):
        assert remind(day) == []
    assert _offsets(validation) == []


def test_after_skipped_days_only_the_closest_offset_is_sent(city, validation, remind):
    """S3.4f: the schedule did not run for a fortnight; the head gets one digest, not three."""
    [message] = remind(date(2026, 5, 30))

    assert message.subject == REMINDER and message.to == [city.head.email]
    assert _offsets(validation) == [2]
    assert remind(date(2026, 5, 30)) == []
    assert len(remind(DUE)) == 1
    assert _offsets(validation) == [0, 2]


def test_skipping_from_ten_days_out_to_five_sends_the_seven_day_digest(city, validation, remind):
    """S3.4f"""
    assert len(remind(date(2026, 5, 21))) == 1  # 10 days left: the 14-day digest
    assert len(remind(date(2026, 5, 26))) == 1  # 5 days left: the 7-day digest
    assert _offsets(validation) == [7, 14]


def test_the_digest_counts_only_the_undecided_items(city, validation, remind):
    """S3.4f"""
    item = validation.items.get(grant__person=city.officer)
    validation_item_decide(item=item, decision=ValidationItem.Decision.KEEP, by=city.head)

    [message] = remind(date(2026, 5, 17))

    assert message.subject == "Reminder: 1 access to validate for Police Department by May 31, 2026"


def test_no_reminder_or_escalation_when_every_item_is_decided(city, validation, remind):
    """S3.4f"""
    validation_keep_all(validation=validation, by=city.head, confirmed=True)

    for day in _days(OPENED, DUE + timedelta(days=5)):
        assert remind(day) == []
    assert _offsets(validation) == []


def test_after_the_due_date_one_escalation_goes_to_the_designee_and_itsa(city, validation, remind):
    """S3.4e S3.4f: the Mayor's designee and ITSA learn that the head did not answer."""
    remind(DUE)

    [message] = remind(DUE + timedelta(days=1))

    assert sorted(message.to) == sorted([city.designee.email, city.itsa.email, city.itsa2.email])
    assert city.head.email not in message.to
    assert message.subject == OVERDUE
    for day in _days(DUE + timedelta(days=1), DUE + timedelta(days=20)):
        assert remind(day) == []
    assert _offsets(validation) == [-1, 0]


def test_an_inactive_itsa_administrator_is_not_sent_the_escalation(city, validation, remind):
    """S3.4f"""
    city.itsa2.is_active = False
    city.itsa2.save(update_fields=["is_active"])

    [message] = remind(DUE + timedelta(days=3))

    assert sorted(message.to) == sorted([city.designee.email, city.itsa.email])


def test_a_signed_off_validation_gets_no_reminder(city, validation, remind):
    """S3.4f"""
    Validation.objects.filter(pk=validation.pk).update(status=Validation.Status.SIGNED_OFF)

    assert remind(date(2026, 5, 17)) == []
    assert remind(DUE + timedelta(days=1)) == []


def test_reminders_leave_only_after_the_commit(city, validation, django_capture_on_commit_callbacks):
    """S3.4f: nothing is mailed for a transaction that might still roll back."""
    with django_capture_on_commit_callbacks() as callbacks:
        assert send_reminders(today=date(2026, 5, 17)) == 1
        assert mail.outbox == []

    assert len(callbacks) == 1 and mail.outbox == []
    callbacks[0]()
    assert [m.subject for m in mail.outbox] == [REMINDER]


def test_a_digest_due_on_a_daylight_saving_day_is_sent_once(city, validation, remind):
    """S3.4f: 8 March 2026, the clocks go forward; the 7-day digest for a validation due 15 March."""
    Validation.objects.filter(pk=validation.pk).update(due_date=date(2026, 3, 15))

    assert len(remind(date(2026, 3, 8))) == 1
    assert remind(date(2026, 3, 8)) == []
    assert _offsets(validation) == [7]


@pytest.mark.parametrize("due, runs", [
    (date(2026, 3, 8), [datetime(2026, 3, 8, 0, 30), datetime(2026, 3, 8, 3, 30), datetime(2026, 3, 8, 23, 30)]),
    (date(2026, 11, 1), [datetime(2026, 11, 1, 0, 30), datetime(2026, 11, 1, 1, 30, fold=1),
                         datetime(2026, 11, 1, 23, 30)]),
], ids=["spring-forward", "fall-back"])
def test_a_reminder_due_on_the_day_of_a_daylight_saving_change_is_sent_once_by_the_clock(
    city, validation, remind, monkeypatch, due, runs
):
    """S3.4f: the task runs without a date and reads the clock; late in the evening the UTC date is
    already the next day, but for the city it is still the due date, so no escalation yet."""
    Validation.objects.filter(pk=validation.pk).update(due_date=due)
    sent = []
    for run in runs:
        instant = run.replace(tzinfo=CHICAGO)
        monkeypatch.setattr(timezone, "now", lambda instant=instant: instant.astimezone(ZoneInfo("UTC")))
        assert timezone.localdate() == due
        sent += remind()

    assert [m.subject for m in sent] == [REMINDER.replace("May 31, 2026", f"{due:%B} {due.day}, {due.year}")]
    assert _offsets(validation) == [0]
