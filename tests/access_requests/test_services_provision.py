"""ITSA carries out approved requests (S3.5a, S3.5b): add, change, remove, suspend, or return."""

import pytest
from conftest import file_request, provisioned

from accounts.models import Grant
from accounts.services import authorized_requester_add
from portal.errors import NotAllowed, RuleViolation
from portal.models import AuditEvent
from access_requests.models import AccessRequest
from access_requests.selectors import itsa_queue
from access_requests.services import access_request_approve, access_request_provision, access_request_return, may_provision


def _events(request, action, outcome="success"):
    return AuditEvent.objects.filter(action=action, target=str(request), outcome=outcome)


def test_itsa_provisions_an_approved_request_and_the_grant_is_recorded(city):
    """S3.5a S3.5b"""
    request = file_request(city, by=city.head, uses=[city.crime_detection, city.investigations])
    assert request in itsa_queue(city.itsa)

    request = access_request_provision(request=request, by=city.itsa, account_name="  oofficer ")

    grant = request.grant
    assert request.status == AccessRequest.Status.COMPLETED
    assert request.processed_by == city.itsa and request.processed_at is not None
    assert grant.person == city.officer and grant.system == city.vms and grant.department == city.police
    assert grant.role == Grant.Role.END_USER and grant.status == Grant.Status.ACTIVE
    assert grant.account_name == "oofficer" == request.account_name
    assert grant.provisioned_by == city.itsa
    assert set(grant.permissible_uses.all()) == {city.crime_detection, city.investigations}
    assert request not in itsa_queue(city.itsa)


@pytest.mark.parametrize("who", ["head", "requester", "designee", "outsider"])
def test_only_itsa_provisions(city, who):
    """S3.5b: ITSA creates and manages all end-user accounts."""
    request = file_request(city, by=city.head)
    actor = getattr(city, who)

    assert not may_provision(request=request, user=actor)
    with pytest.raises(NotAllowed):
        access_request_provision(request=request, by=actor, account_name="oofficer")

    request.refresh_from_db()
    assert request.is_with_itsa
    assert not Grant.objects.exists()
    assert _events(request, "access_request.provision", "denied").filter(actor=actor).exists()


def test_an_itsa_administrator_never_provisions_their_own_access(city):
    """S3.5b: nobody provisions their own access."""
    city.itsa.department = city.police
    city.itsa.save()
    request = file_request(city, person=city.itsa, by=city.head)

    assert not may_provision(request=request, user=city.itsa)
    with pytest.raises(NotAllowed):
        access_request_provision(request=request, by=city.itsa, account_name="iitsa")

    assert not Grant.objects.exists()
    request = access_request_provision(request=request, by=city.itsa2, account_name="iitsa")
    assert request.grant.person == city.itsa and request.processed_by == city.itsa2


def test_an_itsa_administrator_never_provisions_a_request_they_filed(city):
    """S3.5b: the requester never provisions the same request."""
    city.itsa.department = city.police
    city.itsa.save()
    authorized_requester_add(department=city.police, person=city.itsa, by=city.itsa2)
    request = file_request(city, by=city.itsa)
    request = access_request_approve(request=request, by=city.head)

    assert not may_provision(request=request, user=city.itsa)
    with pytest.raises(NotAllowed):
        access_request_provision(request=request, by=city.itsa, account_name="oofficer")

    assert not Grant.objects.exists()
    request = access_request_provision(request=request, by=city.itsa2, account_name="oofficer")
    assert request.status == AccessRequest.Status.COMPLETED


@pytest.mark.parametrize("account_name", ["", "   ", "\x00"])
def test_adding_access_needs_the_account_name(city, account_name):
    """S3.5b: every account on a system is traceable to its grant."""
    request = file_request(city, by=city.head)

    with pytest.raises(RuleViolation) as refusal:
        access_request_provision(request=request, by=city.itsa, account_name=account_name)

    assert refusal.value.field == "account_name"
    request.refresh_from_db()
    assert request.is_with_itsa
    assert not Grant.objects.exists()


def test_an_account_name_over_150_characters_is_refused(city):
    """S3.5b"""
    request = file_request(city, by=city.head)

    with pytest.raises(RuleViolation) as refusal:
        access_request_provision(request=request, by=city.itsa, account_name="x" * 151)

    assert refusal.value.field == "account_name"
    assert not Grant.objects.exists()


def test_a_request_awaiting_the_head_cannot_be_provisioned(city):
    """S3.4c S3.5a: only approved requests reach ITSA."""
    request = file_request(city, by=city.requester)

    with pytest.raises(RuleViolation):
        access_request_provision(request=request, by=city.itsa, account_name="oofficer")

    assert not Grant.objects.exists()


def test_provisioning_twice_has_one_effect(city):
    """S3.5b: a double-submitted provisioning."""
    request = file_request(city, by=city.head)

    first = access_request_provision(request=request, by=city.itsa, account_name="oofficer")
    second = access_request_provision(request=request, by=city.itsa, account_name="other-name")

    assert second.grant == first.grant and second.account_name == "oofficer"
    assert Grant.objects.count() == 1
    assert _events(request, "access_request.provision").count() == 1


def test_someone_who_may_not_provision_is_refused_even_after_the_request_was_completed(city):
    """S3.5b: a repeated provisioning is a no-op only for those who may provision."""
    request = provisioned(city, by=city.head)

    for actor in (city.head, city.officer):
        with pytest.raises(NotAllowed):
            access_request_provision(request=request, by=actor, account_name="other")

    assert Grant.objects.count() == 1


def test_someone_who_may_not_return_is_refused_even_after_the_request_was_returned(city):
    """S3.5b"""
    request = access_request_return(request=file_request(city, by=city.head), reason="Missing copy.", by=city.itsa)

    with pytest.raises(NotAllowed):
        access_request_return(request=request, reason="Again.", by=city.head)


def test_a_change_moves_an_end_user_to_auditor_on_the_same_grant(city):
    """S3.2a S3.5b: a change replaces the end-user role, so it is no conflict."""
    grant = provisioned(city).grant
    request = file_request(city, action="change", role="auditor", uses=[city.investigations], by=city.head)

    request = access_request_provision(request=request, by=city.itsa2, account_name="")

    grant.refresh_from_db()
    assert request.grant == grant
    assert grant.role == Grant.Role.AUDITOR and grant.status == Grant.Status.ACTIVE
    assert list(grant.permissible_uses.all()) == [city.investigations]
    assert Grant.objects.filter(person=city.officer).count() == 1


def test_a_removal_ends_the_grant(city):
    """S3.5b"""
    grant = provisioned(city).grant
    request = file_request(city, action="remove", uses=[], by=city.head)

    access_request_provision(request=request, by=city.itsa, account_name="")

    grant.refresh_from_db()
    assert grant.status == Grant.Status.REMOVED
    assert grant.ended_at is not None


def test_a_suspension_suspends_the_grant_and_keeps_it_live(city):
    """S3.5b S3.5c"""
    grant = provisioned(city).grant
    request = file_request(city, action="suspend", uses=[], by=city.head)

    access_request_provision(request=request, by=city.itsa, account_name="")

    grant.refresh_from_db()
    assert grant.status == Grant.Status.SUSPENDED and grant.is_live
    assert grant.ended_at is None


def test_itsa_returns_a_request_with_a_reason_and_the_grant_is_untouched(city):
    """S3.5b"""
    grant = provisioned(city).grant
    request = file_request(city, action="remove", uses=[], by=city.head)

    request = access_request_return(request=request, reason="The account is shared; call us.", by=city.itsa)

    assert request.status == AccessRequest.Status.RETURNED
    assert request.return_reason == "The account is shared; call us."
    assert request.processed_by == city.itsa
    grant.refresh_from_db()
    assert grant.status == Grant.Status.ACTIVE and grant.ended_at is None


@pytest.mark.parametrize("reason", ["", "  "])
def test_a_return_without_a_reason_is_refused(city, reason):
    """S3.5b"""
    request = file_request(city, by=city.head)

    with pytest.raises(RuleViolation) as refusal:
        access_request_return(request=request, reason=reason, by=city.itsa)

    assert refusal.value.field == "reason"
    request.refresh_from_db()
    assert request.is_with_itsa


def test_only_itsa_returns_a_request(city):
    """S3.5b"""
    request = file_request(city, by=city.head)

    with pytest.raises(NotAllowed):
        access_request_return(request=request, reason="No.", by=city.head)

    request.refresh_from_db()
    assert request.is_with_itsa


def test_returning_twice_has_one_effect(city):
    """S3.5b"""
    request = file_request(city, by=city.head)

    access_request_return(request=request, reason="Missing the signed copy.", by=city.itsa)
    again = access_request_return(request=request, reason="Second click.", by=city.itsa)

    assert again.return_reason == "Missing the signed copy."
    assert _events(request, "access_request.return").count() == 1


def test_a_returned_request_cannot_be_provisioned(city):
    """S3.5b"""
    request = file_request(city, by=city.head)
    access_request_return(request=request, reason="Missing the signed copy.", by=city.itsa)

    with pytest.raises(RuleViolation):
        access_request_provision(request=request, by=city.itsa2, account_name="oofficer")

    assert not Grant.objects.exists()
