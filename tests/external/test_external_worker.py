"""The daily task of external connections runs on a real Celery worker over Redis (S3.6a): the worker
ends an approved connection on its end date, and ITSA is told to close it.

Needs Redis (REDIS_URL): skipped without it on a workstation, failed in CI."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from services import eventually

from external.models import ExternalConnection
from external.tasks import external_connections_daily

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_worker_ends_a_connection_on_its_end_date(worker_on_redis, city):
    """S3.6a: approved connections have an end date; the task run by the worker ends it."""
    today = timezone.localdate()
    # Approved 90 days ago for 90 days: today, at 00:00 city time, it ended.
    connection = ExternalConnection.objects.create(
        name="Transit station cameras", owner="Regional Transit Authority", department=city.police,
        business_reasons="Detect crime at transit stations.", method=ExternalConnection.Method.SECURE_API,
        starts_on=today - timedelta(days=90), ends_on=today, requested_by=city.head,
        status=ExternalConnection.Status.APPROVED, decided_by=city.designee, decided_at=timezone.now(),
        decision_reason="Crime detection.",
    )
    connection.systems.set([city.vms])
    connection.permissible_uses.set([city.crime_detection])

    external_connections_daily.delay()

    assert eventually(lambda: ExternalConnection.objects.filter(
        pk=connection.pk, status=ExternalConnection.Status.EXPIRED).exists()), "the worker did not end it"
    closing = eventually(lambda: [m for m in mail.outbox if m.subject.startswith("Close the connection")])
    assert [sorted(m.to) for m in closing] == [sorted([city.itsa.email, city.itsa2.email])]
