"""The daily waiver task runs on a real Celery worker over Redis (S5.1a): the worker ends the waiver
whose end date has come, and its mail reaches the head.

Needs Redis (REDIS_URL): skipped without it on a workstation, failed in CI."""

from datetime import timedelta

import pytest
from conftest import make_directors, provisioned
from django.core import mail
from django.utils import timezone
from services import eventually

from waivers import services as waiver_services
from waivers.models import Waiver
from waivers.tasks import waivers_daily
from portal.models import IntendedUse

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_worker_ends_the_waiver_whose_end_date_has_come(worker_on_redis, city):
    """S5.1a: a waiver granted three days ago for three days ends by itself, through the broker."""
    directors = make_directors()
    today = timezone.localdate()
    started = today - timedelta(days=3)
    waiver = waiver_services.waiver_request(
        department=city.police, intended_use=IntendedUse.objects.get(code="public-safety"), deviation="Wider area.",
        basis="safety", justification="Stadium event.", grants=[provisioned(city).grant], starts_on=started, days=3,
        by=city.head, today=started,
    )
    waiver = waiver_services.waiver_decide(waiver=waiver, grant=True, reason="Ok.", by=directors.safety, today=started)
    running = waiver_services.waiver_request(
        department=city.police, intended_use=IntendedUse.objects.get(code="public-safety"), deviation="Another.",
        basis="life", justification="Search.", grants=list(waiver.grants.all()), starts_on=today, days=2,
        by=city.head,
    )

    waivers_daily.delay()

    assert eventually(lambda: Waiver.objects.get(pk=waiver.pk).status == Waiver.Status.EXPIRED), \
        "the worker did not end the waiver"
    ended = eventually(lambda: [m for m in mail.outbox if m.subject.startswith("Waiver ended")])
    assert [m.to for m in ended] == [[city.head.email]]
    assert Waiver.objects.get(pk=running.pk).status == Waiver.Status.REQUESTED
    assert Waiver.objects.get(pk=waiver.pk).ended_by is None
