"""The head's approval (S3.4c): who approves, who declines, who withdraws, and that nobody approves
their own access."""

import pytest
from conftest import file_request

from accounts.models import DESIGNEE_GROUP, User
from accounts.services import role_group
from portal.errors import NotAllowed, RuleViolation
from portal.models import AuditEvent
from access_requests.models import AccessRequest
from access_requests.services import (
    access_request_approve,
    access_request_decline,
    access_request_return,
    access_request_withdraw,
    may_approve,
)


def _approvals(request):
    return AuditEvent.objects.filter(action="access_request.approve", target=str(request), outcome="success")


def test_the_head_approves_a_request_filed_by_an_authorized_requester(city):
    """S3.4c S3.5a"""
    request = file_request(city, by=city.requester)

    request = access_request_approve(request=request, by=city.head)

    assert request.status == AccessRequest.Status.WITH_ITSA
    assert request.approved_by == city.head and request.approved_at is not None
    assert _approvals(request).count() == 1


@pytest.mark.parametrize("who", ["requester", "analyst", "outsider", "itsa", "designee"])
def test_only_the_head_approves_a_request_for_one_of_their_people(city, who):
    """S3.4c"""
    request = file_request(city, by=city.requester)
    actor = getattr(city, who)

    assert not may_approve(request=request, user=actor)
    with pytest.raises(NotAllowed):
        access_request_approve(request=request, by=actor)

    request.refresh_from_db()
    assert request.is_awaiting_head and request.approved_by is None
    assert AuditEvent.objects.filter(actor=actor, action="access_request.approve", outcome="denied").exists()


def test_a_heads_request_for_their_own_access_waits_for_the_designee(city):
    """S3.4c: a head's own filing counts as approval only for other people."""
    request = file_request(city, person=city.head, by=city.head)

    assert request.status == AccessRequest.Status.AWAITING_HEAD
    assert request.approved_by is None


def test_the_head_cannot_approve_their_own_access(city):
    """S3.4c: nobody approves their own access."""
    request = file_request(city, person=city.head, by=city.head)

    assert not may_approve(request=request, user=city.head)
    with pytest.raises(NotAllowed):
        access_request_approve(request=request, by=city.head)

    request.refresh_from_db()
    assert request.is_awaiting_head


def test_the_designee_approves_a_heads_request_for_their_own_access(city):
    """S3.4b S3.4c"""
    request = file_request(city, person=city.head, by=city.requester)

    request = access_request_approve(request=request, by=city.designee)

    assert request.status == AccessRequest.Status.WITH_ITSA
    assert request.approved_by == city.designee


def test_the_designee_does_not_approve_requests_for_other_people(city):
    """S3.4c: the head approves their own people."""
    request = file_request(city, by=city.requester)

    with pytest.raises(NotAllowed):
        access_request_approve(request=request, by=city.designee)


def test_a_designee_cannot_approve_their_own_access(city):
    """S3.4c: nobody approves their own access, whatever their role."""
    insider = User.objects.create_user(email="liaison@police.example", full_name="Lee Liaison", department=city.police)
    insider.groups.add(role_group(DESIGNEE_GROUP))
    request = file_request(city, person=insider, by=city.requester)

    with pytest.raises(NotAllowed):
        access_request_approve(request=request, by=insider)

    request = access_request_approve(request=request, by=city.head)
    assert request.approved_by == city.head


def test_approving_twice_has_one_effect(city):
    """S3.4c: a double-submitted approval."""
    request = file_request(city, by=city.requester)

    first = access_request_approve(request=request, by=city.head)
    second = access_request_approve(request=request, by=city.head)

    assert second.status == AccessRequest.Status.WITH_ITSA
    assert second.approved_at == first.approved_at
    assert _approvals(request).count() == 1
    assert request.history.filter(status=AccessRequest.Status.WITH_ITSA).count() == 1


def test_someone_who_may_not_approve_is_refused_even_after_the_request_was_approved(city):
    """S3.4c: deny by default; a repeated approval is a no-op only for the approver."""
    request = access_request_approve(request=file_request(city, by=city.requester), by=city.head)

    with pytest.raises(NotAllowed):
        access_request_approve(request=request, by=city.outsider)


def test_a_declined_request_cannot_be_approved(city):
    """S3.4c"""
    request = file_request(city, by=city.requester)
    access_request_decline(request=request, reason="Not needed for this role.", by=city.head)

    with pytest.raises(RuleViolation):
        access_request_approve(request=request, by=city.head)

    request.refresh_from_db()
    assert request.status == AccessRequest.Status.DECLINED
    assert not _approvals(request).exists()


def test_a_request_returned_by_itsa_cannot_be_approved_again(city):
    """S3.4c S3.5b: a returned request is closed; the department files a new one."""
    request = access_request_approve(request=file_request(city, by=city.requester), by=city.head)
    access_request_return(request=request, reason="Missing the signed copy.", by=city.itsa)

    with pytest.raises(RuleViolation):
        access_request_approve(request=request, by=city.head)

    request.refresh_from_db()
    assert request.status == AccessRequest.Status.RETURNED


def test_a_withdrawn_request_cannot_be_approved(city):
    """S3.4c"""
    request = file_request(city, by=city.requester)
    access_request_withdraw(request=request, by=city.requester)

    with pytest.raises(RuleViolation):
        access_request_approve(request=request, by=city.head)

    request.refresh_from_db()
    assert request.status == AccessRequest.Status.WITHDRAWN


def test_an_approval_is_refused_once_the_department_lost_access_to_the_system(city):
    """S3.4a S3.4c"""
    request = file_request(city, by=city.requester)
    city.police_vms.status = "withdrawn"
    city.police_vms.save()

    with pytest.raises(RuleViolation):
        access_request_approve(request=request, by=city.head)

    request.refresh_from_db()
    assert request.is_awaiting_head


def test_the_head_declines_with_a_reason(city):
    """S3.4c"""
    request = file_request(city, by=city.requester)

    request = access_request_decline(request=request, reason="Not needed for this role.", by=city.head)

    assert request.status == AccessRequest.Status.DECLINED
    assert request.head_reason == "Not needed for this role."
    assert AuditEvent.objects.filter(action="access_request.decline", target=str(request)).count() == 1


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_decline_without_a_reason_is_refused(city, reason):
    """S3.4c"""
    request = file_request(city, by=city.requester)

    with pytest.raises(RuleViolation) as refusal:
        access_request_decline(request=request, reason=reason, by=city.head)

    assert refusal.value.field == "reason"
    request.refresh_from_db()
    assert request.is_awaiting_head


def test_only_the_head_declines(city):
    """S3.4c"""
    request = file_request(city, by=city.requester)

    for actor in (city.requester, city.outsider, city.itsa):
        with pytest.raises(NotAllowed):
            access_request_decline(request=request, reason="No.", by=actor)

    request.refresh_from_db()
    assert request.is_awaiting_head


def test_declining_twice_has_one_effect(city):
    """S3.4c"""
    request = file_request(city, by=city.requester)

    access_request_decline(request=request, reason="Not needed.", by=city.head)
    again = access_request_decline(request=request, reason="Second click.", by=city.head)

    assert again.head_reason == "Not needed."
    assert AuditEvent.objects.filter(action="access_request.decline", target=str(request)).count() == 1


def test_the_requester_withdraws_their_request(city):
    """S3.4c"""
    request = file_request(city, by=city.requester)

    request = access_request_withdraw(request=request, by=city.requester)

    assert request.status == AccessRequest.Status.WITHDRAWN
    assert AuditEvent.objects.filter(action="access_request.withdraw", actor=city.requester).count() == 1


def test_the_person_the_request_is_about_cannot_withdraw_it(city):
    """S3.4c"""
    request = file_request(city, by=city.requester)

    with pytest.raises(NotAllowed):
        access_request_withdraw(request=request, by=city.officer)

    request.refresh_from_db()
    assert request.is_awaiting_head
    assert AuditEvent.objects.filter(actor=city.officer, action="access_request.withdraw", outcome="denied").exists()


def test_someone_else_is_refused_even_after_the_request_was_declined_or_withdrawn(city):
    """S3.4c: a repeated decline or withdrawal is a no-op only for those who may do it."""
    declined = access_request_decline(request=file_request(city, by=city.requester), reason="No.", by=city.head)
    withdrawn = access_request_withdraw(request=file_request(city, person=city.analyst), by=city.requester)

    with pytest.raises(NotAllowed):
        access_request_decline(request=declined, reason="Me too.", by=city.outsider)
    with pytest.raises(NotAllowed):
        access_request_withdraw(request=withdrawn, by=city.outsider)


def test_withdrawing_twice_has_one_effect(city):
    """S3.4c"""
    request = file_request(city, by=city.requester)

    access_request_withdraw(request=request, by=city.requester)
    access_request_withdraw(request=request, by=city.requester)

    assert AuditEvent.objects.filter(action="access_request.withdraw").count() == 1


def test_a_declined_request_cannot_be_withdrawn(city):
    """S3.4c"""
    request = file_request(city, by=city.requester)
    access_request_decline(request=request, reason="Not needed.", by=city.head)

    with pytest.raises(RuleViolation):
        access_request_withdraw(request=request, by=city.requester)
