"""Separation of duties (S3.2a, S3.2b) where the services check it: at filing, at approval and at
provisioning, in both orders, and when both roles arrive at once."""

import pytest
from conftest import file_request, provisioned
from django.utils import timezone

from accounts.models import Grant
from accounts.sod import sod_violations
from portal.errors import RuleViolation
from portal.models import AuditEvent
from access_requests.models import AccessRequest
from access_requests.services import (
    access_request_approve,
    access_request_preview,
    access_request_provision,
    access_request_withdraw,
)


def _direct_grant(city, role, *, person=None):
    """A grant that appears without a request, as imported data or a direct database edit would."""
    return Grant.objects.create(
        person=person or city.officer, system=city.vms, department=city.police, role=role,
        account_name=f"imported-{role}", provisioned_at=timezone.now(), provisioned_by=city.itsa,
    )


def test_an_administrator_request_for_an_end_user_is_refused_at_filing(city):
    """S3.2a"""
    provisioned(city, role="end_user")

    with pytest.raises(RuleViolation) as refusal:
        file_request(city, role="administrator", by=city.head)

    assert "3.2" in refusal.value.message and refusal.value.field == "role"
    assert not AccessRequest.objects.filter(role="administrator").exists()
    assert AuditEvent.objects.filter(action="access_request.submit", outcome="refused").exists()


def test_an_end_user_request_for_an_administrator_is_refused_at_filing(city):
    """S3.2b"""
    provisioned(city, role="administrator")

    with pytest.raises(RuleViolation) as refusal:
        file_request(city, role="end_user", by=city.head)

    assert "3.2" in refusal.value.message
    assert not AccessRequest.objects.filter(role="end_user").exists()


@pytest.mark.parametrize("staff_role", ["monitor", "auditor"])
def test_monitors_and_auditors_are_staff_at_filing(city, staff_role):
    """S3.2a"""
    provisioned(city, role="end_user")

    with pytest.raises(RuleViolation):
        file_request(city, role=staff_role, by=city.head)


BOTH_ORDERS = pytest.mark.parametrize("asked, held", [("administrator", "end_user"), ("end_user", "administrator")])


@BOTH_ORDERS
def test_a_conflicting_grant_provisioned_between_filing_and_approval_stops_the_approval(city, asked, held):
    """S3.2a S3.2b"""
    request = file_request(city, role=asked, by=city.requester)
    _direct_grant(city, held)

    with pytest.raises(RuleViolation) as refusal:
        access_request_approve(request=request, by=city.head)

    assert "3.2" in refusal.value.message
    request.refresh_from_db()
    assert request.is_awaiting_head
    assert AuditEvent.objects.filter(action="access_request.approve", outcome="refused").exists()


@BOTH_ORDERS
def test_a_conflicting_grant_created_between_approval_and_provisioning_stops_the_provisioning(city, asked, held):
    """S3.2a S3.2b"""
    request = file_request(city, role=asked, by=city.head)
    _direct_grant(city, held)

    with pytest.raises(RuleViolation) as refusal:
        access_request_provision(request=request, by=city.itsa, account_name="oofficer")

    assert "3.2" in refusal.value.message
    request.refresh_from_db()
    assert request.is_with_itsa
    assert list(Grant.objects.filter(person=city.officer).values_list("role", flat=True)) == [held]
    assert AuditEvent.objects.filter(action="access_request.provision", outcome="refused").exists()


@BOTH_ORDERS
def test_a_second_request_for_the_other_side_while_the_first_is_in_flight_is_refused(city, asked, held):
    """S3.2a S3.2b: both roles would arrive; the second filing is refused."""
    file_request(city, role=held, by=city.requester)

    with pytest.raises(RuleViolation) as refusal:
        file_request(city, role=asked, by=city.head)

    assert "in flight" in refusal.value.message
    assert AccessRequest.objects.count() == 1


def test_a_request_in_flight_for_the_other_side_no_longer_counts_once_withdrawn(city):
    """S3.2a"""
    first = file_request(city, role="end_user", by=city.requester)
    access_request_withdraw(request=first, by=city.requester)

    request = file_request(city, role="administrator", by=city.head)

    assert request.is_with_itsa


def test_a_change_of_role_to_the_other_side_with_another_live_grant_is_refused(city):
    """S3.2a: the change replaces one grant, not the other one."""
    provisioned(city, role="auditor")
    provisioned(city, role="monitor")

    with pytest.raises(RuleViolation):
        file_request(city, action="change", role="end_user", by=city.head)


def test_a_suspended_end_user_grant_still_blocks_an_administrator_request(city):
    """S3.2a"""
    grant = provisioned(city, role="end_user").grant
    access_request_provision(request=file_request(city, action="suspend", uses=[], by=city.head), by=city.itsa)
    grant.refresh_from_db()
    assert grant.status == Grant.Status.SUSPENDED

    with pytest.raises(RuleViolation):
        file_request(city, role="administrator", by=city.head)


def test_a_removed_end_user_grant_does_not_block_an_administrator_request(city):
    """S3.2a"""
    provisioned(city, role="end_user")
    access_request_provision(request=file_request(city, action="remove", uses=[], by=city.head), by=city.itsa)

    request = provisioned(city, role="administrator", by=city.head)

    assert request.grant.role == Grant.Role.ADMINISTRATOR
    assert sod_violations() == []


def test_the_administrator_of_one_system_may_be_an_end_user_of_another(city):
    """S3.2b: the rule is per system."""
    Grant.objects.create(person=city.officer, system=city.lpr, department=city.police, role="administrator",
                         account_name="officer-admin", provisioned_at=timezone.now(), provisioned_by=city.itsa)

    request = provisioned(city, role="end_user")

    assert request.grant.role == Grant.Role.END_USER
    assert sod_violations() == []


def test_the_form_preview_names_the_conflict_before_filing(city):
    """S3.2a: the same rule, asked by the form."""
    provisioned(city, role="end_user")

    problems = access_request_preview(department=city.police, person=city.officer, system=city.vms,
                                      action="add", role="administrator")

    assert any("3.2" in problem for problem in problems)
    assert access_request_preview(department=city.police, person=city.analyst, system=city.vms,
                                  action="add", role="administrator") == []
