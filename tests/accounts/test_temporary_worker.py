"""The temporary-access task runs on a real Celery worker over Redis (Def.T S3.5b): the worker
removes a temporary grant whose end has come and ITSA is asked to close the account.

Needs Redis (REDIS_URL): skipped without it on a workstation, failed in CI."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from services import eventually

from access_requests.services import access_request_approve, access_request_provision, access_request_submit
from accounts.models import Grant
from accounts.tasks import temporary_grants_daily
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_worker_removes_a_temporary_grant_whose_end_has_come(worker_on_redis, city):
    """Def.T S3.5b: through the broker to the worker; the grant is removed and ITSA mailed."""
    request = access_request_submit(
        department=city.police, person=city.officer, system=city.vms, action="add", role="end_user",
        permissible_uses=[city.crime_detection], justification="Covers a colleague's leave.", by=city.requester,
        condition_statement="Case 26-004321, an active investigation, until the case closes.",
        ends_on=timezone.localdate() + timedelta(days=3),
    )
    request = access_request_approve(request=request, by=city.head)
    grant = access_request_provision(request=request, by=city.itsa, account_name="olive.temp").grant
    # Three days go by: the end date is today, so the access ended at 00:00.
    Grant.objects.filter(pk=grant.pk).update(ends_on=timezone.localdate())
    still_live = Grant.objects.filter(pk=grant.pk, status=Grant.Status.ACTIVE)
    assert still_live.exists()

    temporary_grants_daily.delay()

    assert eventually(lambda: Grant.objects.filter(pk=grant.pk, status=Grant.Status.REMOVED).exists()), \
        "the worker did not remove the temporary grant"
    closing = eventually(lambda: [m for m in mail.outbox if m.subject.startswith("Close account olive.temp")])
    assert [sorted(message.to) for message in closing] == [sorted([city.itsa.email, city.itsa2.email])]
    assert AuditEvent.objects.filter(action="grant.temporary_ended", actor=None).count() == 1
