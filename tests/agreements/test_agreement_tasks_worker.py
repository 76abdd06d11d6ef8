"""The daily agreement task runs on a real Celery worker over Redis (S3.7, S2.3): the worker ends an
agreement on its end date and removes the third party's grants under it.

Needs Redis (REDIS_URL): skipped without it on a workstation, failed in CI."""

import pytest
from agreement_setup import add_person, approved
from django.core import mail
from django.utils import timezone
from services import eventually

from accounts.models import Grant
from agreements.models import SharingAgreement
from agreements.tasks import agreements_daily

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_worker_ends_the_agreement_and_removes_its_grants(worker_on_redis, city):
    """S3.7 S2.3: the task goes through the broker to the worker, which ends the agreement that has
    reached its end date and removes its view-only grant; the third party's person is told."""
    agreement = approved(city)
    grant = add_person(city, agreement)
    running = approved(city, third_party="Campus Police", category="security_organization")
    # Its end date has come (set directly: a grant cannot be given on an agreement ending today).
    SharingAgreement.objects.filter(pk=agreement.pk).update(ends_on=timezone.localdate())

    agreements_daily.delay()

    assert eventually(lambda: SharingAgreement.objects.get(pk=agreement.pk).status == SharingAgreement.Status.ENDED)
    assert eventually(lambda: Grant.objects.get(pk=grant.pk).status == Grant.Status.REMOVED)
    assert SharingAgreement.objects.get(pk=agreement.pk).ended_by is None
    assert SharingAgreement.objects.get(pk=running.pk).status == SharingAgreement.Status.APPROVED
    told = eventually(lambda: [m for m in mail.outbox if m.subject.startswith("Your view-only access")])
    assert [message.to for message in told] == [["deputy@sheriff.example"]]
