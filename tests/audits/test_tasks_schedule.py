"""The daily schedule (S3.4e S3.4f): Celery beat names the validation tasks, and each task runs its
service on today's date in the city's time zone. Tasks run in-process here; test_tasks_worker runs
them on a real worker."""

from datetime import timedelta

import pytest
from conftest import provisioned
from django.conf import settings
from django.core import mail
from django.utils import timezone

from accounts.models import Grant
from audits import tasks
from audits.models import Validation, ValidationItem
from portal.celery import app

AUDIT_TASKS = {
    "audits.tasks.open_due_validations",
    "audits.tasks.send_validation_reminders",
    "audits.tasks.handle_validation_non_response",
    "audits.tasks.refresh_signed_off_validations",
}


@pytest.fixture
def police_grants(city):
    return [provisioned(city).grant, provisioned(city, person=city.analyst).grant]


def test_beat_runs_every_validation_task(city):
    """S3.4e: the schedule runs itself."""
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert AUDIT_TASKS <= scheduled
    for name in AUDIT_TASKS:
        assert name in app.tasks, f"{name} is not a registered task"


def test_the_daily_task_opens_the_due_validations_on_todays_date(city, police_grants,
                                                                django_capture_on_commit_callbacks):
    """S3.4e"""
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.open_due_validations.delay().get() == 1
        assert tasks.open_due_validations.delay().get() == 0

    validation = Validation.objects.get()
    assert validation.period == timezone.localdate()
    assert validation.due_date == timezone.localdate() + timedelta(days=settings.VALIDATION_DUE_DAYS)
    assert {item.grant for item in validation.items.all()} == set(police_grants)
    assert [m.to for m in mail.outbox] == [[city.head.email]]


def test_the_reminder_task_sends_the_digest_due_today(city, police_grants, django_capture_on_commit_callbacks):
    """S3.4f"""
    tasks.open_due_validations.delay().get()
    Validation.objects.update(due_date=timezone.localdate() + timedelta(days=2))

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.send_validation_reminders.delay().get() == 1
        assert tasks.send_validation_reminders.delay().get() == 0

    reminders = [m for m in mail.outbox if m.subject.startswith("Reminder:")]
    assert [m.to for m in reminders] == [[city.head.email]]


def test_the_non_response_task_suspends_after_the_grace_period(city, police_grants):
    """S3.4f"""
    tasks.open_due_validations.delay().get()
    Validation.objects.update(
        due_date=timezone.localdate() - timedelta(days=settings.VALIDATION_GRACE_DAYS + 1)
    )

    assert tasks.handle_validation_non_response.delay().get() == 2
    assert tasks.handle_validation_non_response.delay().get() == 0

    assert {g.status for g in Grant.objects.filter(pk__in=[g.pk for g in police_grants])} == {Grant.Status.SUSPENDED}
    assert set(ValidationItem.objects.values_list("decision", flat=True)) == {ValidationItem.Decision.SUSPENDED}
