"""Status changes (S3.5c): the head tells ITSA that a person left, transferred or went on leave, and
every live grant of that person is queued for ITSA."""

import pytest
from conftest import provisioned
from django.utils import timezone

from accounts.models import Grant, User
from portal.errors import NotAllowed, RuleViolation
from portal.models import AuditEvent
from access_requests.models import AccessRequest, StatusChange
from access_requests.selectors import itsa_queue
from access_requests.services import access_request_provision, status_change_report


@pytest.fixture
def officer_grants(city):
    """The officer is an end user of the VMS and an administrator of the plate readers."""
    end_user = provisioned(city).grant
    admin = Grant.objects.create(
        person=city.officer, system=city.lpr, department=city.police, role=Grant.Role.ADMINISTRATOR,
        account_name="officer-admin", provisioned_at=timezone.now(), provisioned_by=city.itsa,
    )
    Grant.objects.create(
        person=city.officer, system=city.traffic, department=city.police, role=Grant.Role.MONITOR,
        account_name="old", provisioned_at=timezone.now(), provisioned_by=city.itsa, status=Grant.Status.REMOVED,
    )
    return [end_user, admin]


def _report(city, kind, *, by=None, person=None):
    person = User.objects.get(pk=(person or city.officer).pk)  # as a view loads it, with its department's head
    return status_change_report(person=person, kind=kind, effective_date=timezone.localdate(),
                                note="Reported by phone.", by=by or city.head)


@pytest.mark.parametrize("kind", [StatusChange.Kind.LEFT, StatusChange.Kind.TRANSFERRED])
def test_leaving_or_transferring_queues_the_removal_of_every_live_grant(city, officer_grants, kind):
    """S3.5c"""
    change = _report(city, kind)

    requests = AccessRequest.objects.filter(status_change=change)
    assert {r.grant for r in requests} == set(officer_grants)
    for request in requests:
        assert request.action == AccessRequest.Action.REMOVE
        assert request.status == AccessRequest.Status.WITH_ITSA
        assert request.role == request.grant.role and request.system == request.grant.system
        assert request.requested_by == city.head and request.approved_by == city.head
        assert request in itsa_queue(city.itsa)
        assert request.written_text and request.grant.account_name in request.written_text


def test_going_on_leave_queues_a_suspension_of_every_live_grant(city, officer_grants):
    """S3.5c"""
    change = _report(city, StatusChange.Kind.ON_LEAVE)

    requests = AccessRequest.objects.filter(status_change=change)
    assert {r.grant for r in requests} == set(officer_grants)
    assert {r.action for r in requests} == {AccessRequest.Action.SUSPEND}


def test_the_persons_employment_status_follows_the_report(city, officer_grants):
    """S3.5c"""
    _report(city, StatusChange.Kind.ON_LEAVE)
    city.officer.refresh_from_db()
    assert city.officer.employment_status == User.EmploymentStatus.ON_LEAVE

    _report(city, StatusChange.Kind.LEFT)
    city.officer.refresh_from_db()
    assert city.officer.employment_status == User.EmploymentStatus.LEFT


def test_reporting_the_same_change_twice_queues_no_duplicate_requests(city, officer_grants):
    """S3.5c"""
    _report(city, StatusChange.Kind.LEFT)
    _report(city, StatusChange.Kind.LEFT)

    removals = AccessRequest.objects.filter(action=AccessRequest.Action.REMOVE)
    assert removals.count() == len(officer_grants)
    assert {r.grant_id for r in removals} == {g.pk for g in officer_grants}


def test_itsa_carries_out_the_queued_removals(city, officer_grants):
    """S3.5b S3.5c"""
    change = _report(city, StatusChange.Kind.LEFT)

    for request in AccessRequest.objects.filter(status_change=change):
        access_request_provision(request=request, by=city.itsa)

    assert not Grant.objects.filter(person=city.officer, status__in=Grant.LIVE_STATUSES).exists()


def test_a_person_without_grants_gets_a_report_and_no_requests(city):
    """S3.5c"""
    change = _report(city, StatusChange.Kind.LEFT, person=city.analyst)

    assert change.person == city.analyst
    assert not AccessRequest.objects.exists()


@pytest.mark.parametrize("who", ["requester", "outsider", "itsa", "officer"])
def test_only_the_head_of_the_persons_department_reports_a_status_change(city, officer_grants, who):
    """S3.5c"""
    actor = getattr(city, who)

    with pytest.raises(NotAllowed):
        _report(city, StatusChange.Kind.LEFT, by=actor)

    assert not StatusChange.objects.exists()
    assert not AccessRequest.objects.filter(action=AccessRequest.Action.REMOVE).exists()
    city.officer.refresh_from_db()
    assert city.officer.employment_status == User.EmploymentStatus.ACTIVE
    assert AuditEvent.objects.filter(actor=actor, action="status_change.report", outcome="denied").exists()


def test_an_unknown_kind_of_status_change_is_refused(city, officer_grants):
    """S3.5c"""
    with pytest.raises(RuleViolation) as refusal:
        _report(city, "promoted")

    assert refusal.value.field == "kind"
    assert not StatusChange.objects.exists()
