"""The hourly retention task runs on a real Celery worker over Redis (S3.11): an extension whose end
date has come ends, with its mail, and a second run changes nothing.

Needs Redis (REDIS_URL): skipped without it on a workstation, failed in CI."""

import time
from datetime import timedelta

import pytest
from conftest import make_directors
from django.core import mail
from django.utils import timezone
from services import eventually

from retention.models import RetentionExtension
from retention.services import retention_extension_decide, retention_extension_request
from retention.tasks import retention_daily

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_worker_ends_an_extension_whose_end_date_has_come(worker_on_redis, city):
    """S3.11: asked and granted ten days ago, ending today at 00:00 city time."""
    directors = make_directors()
    today = timezone.localdate()
    asked_on = today - timedelta(days=10)
    extension = retention_extension_decide(
        extension=retention_extension_request(
            systems=[city.vms], condition="a", justification="Burglaries.", starts_on=asked_on, ends_on=today,
            review_on=asked_on, by=city.head, today=asked_on),
        grant=True, reason="Met.", by=directors.safety, today=asked_on)
    RetentionExtension.objects.filter(pk=extension.pk).update(review_notice_sent_at=timezone.now())

    retention_daily.delay()

    expired = RetentionExtension.Status.EXPIRED
    assert eventually(lambda: RetentionExtension.objects.filter(pk=extension.pk, status=expired).exists()), \
        "the worker did not end the extension"
    extension.refresh_from_db()
    assert timezone.localtime(extension.ended_at).date() == today
    ended = eventually(lambda: [m for m in mail.outbox if m.subject.startswith("Retention extension ended")])
    assert len(ended) == 1 and {city.head.email, directors.safety.email} <= set(ended[0].to)

    history_rows = extension.history.count()
    retention_daily.delay()
    time.sleep(2)
    assert extension.history.count() == history_rows
    assert len([m for m in mail.outbox if m.subject.startswith("Retention extension ended")]) == 1
