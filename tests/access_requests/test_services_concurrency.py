"""Separation of duties and double submits under concurrency, on PostgreSQL (S3.2a, S3.2b).

Each thread has its own database connection and its own transaction, as two web workers would;
a barrier releases them at the same moment.
"""

import hashlib
import threading

import pytest
from conftest import file_request
from django.db import connection
from django.utils import timezone
from services import require_postgres

from accounts.models import Grant
from accounts.sod import sod_violations
from portal.errors import RuleViolation
from portal.models import AuditEvent
from access_requests.models import AccessRequest
from access_requests.services import access_request_approve, access_request_provision

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _at_once(*calls):
    """Run each call in its own thread and connection, released together; return results or errors."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = call()
        except Exception as error:  # the outcome under test, kept for the assertions
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a thread is still waiting for a lock"
    return outcomes


def _in_flight_twin(city, request, *, role):
    """The same person and system, the other side, already approved: as data imported from the paper
    process would arrive. Filing it through the service is refused while `request` is open."""
    twin = AccessRequest.objects.create(
        reference="AR-IMPORTED-00001", department=request.department, person=request.person, system=request.system,
        action=AccessRequest.Action.ADD, role=role, justification="Imported from the paper register.",
        written_text="Imported from the paper register.", written_sha256="0" * 64,
        status=AccessRequest.Status.WITH_ITSA, requested_by=city.head, submitted_at=timezone.now(),
        approved_by=city.head, approved_at=timezone.now(),
    )
    twin.permissible_uses.set(request.permissible_uses.all())
    return twin


def test_two_conflicting_provisionings_at_the_same_moment_let_exactly_one_through(city):
    """S3.2a S3.2b: an end-user and an administrator account for one person on one system."""
    require_postgres()
    end_user = file_request(city, role="end_user", by=city.head)
    administrator = _in_flight_twin(city, end_user, role="administrator")
    assert end_user.is_with_itsa and administrator.is_with_itsa

    outcomes = _at_once(
        lambda: access_request_provision(request=end_user, by=city.itsa, account_name="officer-user"),
        lambda: access_request_provision(request=administrator, by=city.itsa2, account_name="officer-admin"),
    )

    succeeded = [o for o in outcomes if isinstance(o, AccessRequest)]
    refused = [o for o in outcomes if isinstance(o, RuleViolation)]
    assert len(succeeded) == 1 and len(refused) == 1, outcomes
    assert "3.2" in refused[0].message
    live = Grant.objects.filter(person=city.officer, system=city.vms, status__in=Grant.LIVE_STATUSES)
    assert live.count() == 1
    assert live.get().role == succeeded[0].role
    assert sod_violations() == []
    statuses = sorted(AccessRequest.objects.filter(pk__in=[end_user.pk, administrator.pk])
                      .values_list("status", flat=True))
    assert statuses == sorted([AccessRequest.Status.COMPLETED, AccessRequest.Status.WITH_ITSA])


def test_provisioning_one_request_twice_at_the_same_moment_creates_one_grant(city):
    """S3.5b: a double-submitted provisioning."""
    require_postgres()
    request = file_request(city, by=city.head)

    outcomes = _at_once(
        lambda: access_request_provision(request=request, by=city.itsa, account_name="officer-user"),
        lambda: access_request_provision(request=request, by=city.itsa2, account_name="officer-user"),
    )

    assert all(isinstance(o, AccessRequest) for o in outcomes), outcomes
    assert Grant.objects.filter(person=city.officer).count() == 1
    assert AuditEvent.objects.filter(action="access_request.provision", outcome="success").count() == 1
    request.refresh_from_db()
    assert request.status == AccessRequest.Status.COMPLETED


def test_approving_one_request_twice_at_the_same_moment_records_one_approval(city):
    """S3.4c: a double-submitted approval."""
    require_postgres()
    request = file_request(city, by=city.requester)

    outcomes = _at_once(
        lambda: access_request_approve(request=request, by=city.head),
        lambda: access_request_approve(request=request, by=city.head),
    )

    assert all(isinstance(o, AccessRequest) for o in outcomes), outcomes
    assert AuditEvent.objects.filter(action="access_request.approve", target=str(request),
                                     outcome="success").count() == 1
    assert request.history.filter(status=AccessRequest.Status.WITH_ITSA).count() == 1


def test_two_requests_filed_at_the_same_moment_both_get_a_reference(city):
    """S3.4d: every written request has its own reference, however busy the portal is."""
    require_postgres()

    outcomes = _at_once(
        lambda: file_request(city, person=city.officer, by=city.requester),
        lambda: file_request(city, person=city.analyst, by=city.head),
    )

    assert all(isinstance(o, AccessRequest) for o in outcomes), outcomes
    references = list(AccessRequest.objects.values_list("reference", flat=True))
    assert len(references) == len(set(references)) == 2
    for request in AccessRequest.objects.all():
        assert request.reference in request.written_text
        assert hashlib.sha256(request.written_text.encode()).hexdigest() == request.written_sha256
