"""The audit trail is append-only, and denied attempts are on it."""

import pytest
from conftest import file_request
from django.contrib.auth.models import AnonymousUser

from accounts.services import authorized_requester_add
from portal.audit import audit_record
from portal.errors import NotAllowed
from portal.models import AuditEvent
from access_requests.services import access_request_approve, access_request_provision


def test_an_audit_event_cannot_be_saved_a_second_time(city):
    """S5.2: a record of what happened is never rewritten."""
    event = audit_record(actor=city.itsa, action="test.event", target="something")
    event.detail = "rewritten"

    with pytest.raises(PermissionError):
        event.save()

    assert AuditEvent.objects.get(pk=event.pk).detail == ""


def test_an_audit_event_cannot_be_deleted(city):
    """S5.2"""
    event = audit_record(actor=city.itsa, action="test.event", target="something")

    with pytest.raises(PermissionError):
        event.delete()

    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_an_audit_event_records_who_what_and_the_outcome(city):
    """S5.2"""
    request = file_request(city, by=city.head)
    access_request_provision(request=request, by=city.itsa, account_name="oofficer")

    event = AuditEvent.objects.get(action="access_request.provision", outcome="success")
    assert event.actor == city.itsa
    assert event.target == str(request)
    assert event.at is not None


def test_a_denied_attempt_is_recorded_with_outcome_denied(city):
    """S3.3 S5.2: the refusal rolls the change back but keeps the record of the attempt."""
    with pytest.raises(NotAllowed):
        authorized_requester_add(department=city.police, person=city.analyst, by=city.head)

    event = AuditEvent.objects.get(action="requester.add", outcome=AuditEvent.Outcome.DENIED)
    assert event.actor == city.head


def test_a_denied_approval_is_recorded_with_its_target(city):
    """S3.4c S5.2"""
    request = file_request(city, by=city.requester)

    with pytest.raises(NotAllowed):
        access_request_approve(request=request, by=city.outsider)

    event = AuditEvent.objects.get(action="access_request.approve", outcome=AuditEvent.Outcome.DENIED)
    assert event.actor == city.outsider and event.target == str(request)


def test_an_anonymous_actor_is_recorded_as_nobody(db):
    """S5.2"""
    event = audit_record(actor=AnonymousUser(), action="test.event", outcome=AuditEvent.Outcome.DENIED)

    assert event.actor is None and event.outcome == "denied"


def test_audit_events_cannot_be_changed_or_deleted_in_bulk(db):
    """S3.10: the trail cannot be rewritten through a queryset either."""
    import pytest

    from portal.audit import audit_record
    from portal.models import AuditEvent

    audit_record(actor=None, action="test.event", target="x")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(action="test.event").update(outcome="denied")
    assert AuditEvent.objects.filter(action="test.event", outcome="success").count() == 1
