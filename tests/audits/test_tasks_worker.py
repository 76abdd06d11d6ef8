"""The daily schedule runs on a real Celery worker over Redis (S3.4e S3.4f): the worker opens the
due validations with their items, and the reminder it sends reaches the head.

Needs Redis (REDIS_URL): skipped without it on a workstation, failed in CI."""

from datetime import timedelta

import pytest
from conftest import provisioned
from django.core import mail
from django.utils import timezone
from services import eventually

from audits.models import ReminderSent, Validation
from audits.tasks import open_due_validations, send_validation_reminders

pytestmark = pytest.mark.django_db(transaction=True)


def _mail_with_subject(start: str) -> list:
    return [message for message in mail.outbox if message.subject.startswith(start)]


def test_the_worker_opens_the_due_validations_and_the_head_is_reminded(worker_on_redis, city):
    """S3.4e S3.4f: the daily task and the reminder task, each through the broker to the worker."""
    grants = {provisioned(city).grant, provisioned(city, person=city.analyst).grant}

    open_due_validations.delay()

    validation = eventually(lambda: Validation.objects.filter(department=city.police).first())
    assert validation is not None, "the worker did not open the police's validation"
    assert eventually(lambda: validation.items.count() == len(grants))
    assert {item.grant for item in validation.items.all()} == grants
    assert validation.kind == Validation.Kind.ANNUAL and validation.period == timezone.localdate()
    opened = eventually(lambda: _mail_with_subject("Annual validation open: Police Department"))
    assert [message.to for message in opened] == [[city.head.email]]

    # A week before the due date: the 7-day digest.
    Validation.objects.filter(pk=validation.pk).update(due_date=timezone.localdate() + timedelta(days=7))
    send_validation_reminders.delay()

    reminders = eventually(lambda: _mail_with_subject("Reminder: 2 accesses to validate for Police Department"))
    assert len(reminders) == 1, [m.subject for m in mail.outbox]
    assert reminders[0].to == [city.head.email]
    assert list(ReminderSent.objects.filter(validation=validation).values_list("days_before_due", flat=True)) == [7]
    assert Validation.objects.count() == 1
