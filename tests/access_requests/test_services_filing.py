"""Filing a written access request (S3.4c, S3.4d, S2.2): what may be asked, for whom, and by whom."""

import hashlib

import pytest
from conftest import file_request, provisioned

from accounts.models import Grant, User
from portal.errors import RuleViolation
from portal.models import AuditEvent, PermissibleUse
from access_requests.models import AccessRequest
from access_requests.services import access_request_approve, access_request_provision, access_request_withdraw


def test_a_request_for_a_system_the_department_is_not_authorized_for_is_refused(city):
    """S3.4a S3.4c: end users only on systems the department may use."""
    with pytest.raises(RuleViolation) as refusal:
        file_request(city, system=city.lpr)

    assert refusal.value.field == "system"
    assert not AccessRequest.objects.exists()


def test_a_change_on_a_system_the_department_is_no_longer_authorized_for_is_refused(city):
    """S3.4a S3.4c"""
    grant = provisioned(city).grant
    city.police_vms.status = "withdrawn"
    city.police_vms.save()

    with pytest.raises(RuleViolation) as refusal:
        file_request(city, action="change", role="end_user", uses=[city.investigations], by=city.head)

    assert refusal.value.field == "system"
    assert not AccessRequest.objects.filter(grant=grant, action="change").exists()


def test_a_removal_needs_no_department_authorization(city):
    """S3.4c: taking access away is always possible."""
    grant = provisioned(city).grant
    city.police_vms.status = "withdrawn"
    city.police_vms.save()

    request = file_request(city, action="remove", uses=[], by=city.head)

    assert request.grant == grant and request.is_with_itsa


def test_a_permissible_use_outside_the_department_access_is_refused(city):
    """S2.2 S3.4a: the department's access to the system covers public safety, not traffic management."""
    with pytest.raises(RuleViolation) as refusal:
        file_request(city, uses=[city.crime_detection, city.traffic_monitoring])

    assert refusal.value.field == "permissible_uses"
    assert str(city.traffic_monitoring) in refusal.value.message
    assert not AccessRequest.objects.exists()


def test_a_request_without_a_permissible_use_is_refused(city):
    """S2.2: every grant names the Table 1 uses it serves."""
    with pytest.raises(RuleViolation) as refusal:
        file_request(city, uses=[])

    assert refusal.value.field == "permissible_uses"
    assert not AccessRequest.objects.exists()


@pytest.mark.parametrize("justification", ["", "   \n\t "])
def test_a_request_without_a_justification_is_refused(city, justification):
    """S3.4d"""
    with pytest.raises(RuleViolation) as refusal:
        file_request(city, justification=justification)

    assert refusal.value.field == "justification"
    assert not AccessRequest.objects.exists()


def test_a_request_for_a_person_of_another_department_is_refused(city):
    """S3.4c: the head approves end users of their own organization."""
    with pytest.raises(RuleViolation) as refusal:
        file_request(city, person=city.streets_worker)

    assert refusal.value.field == "person"
    assert not AccessRequest.objects.exists()


@pytest.mark.parametrize("status", [User.EmploymentStatus.LEFT, User.EmploymentStatus.ON_LEAVE])
def test_access_for_a_person_who_is_not_an_active_employee_is_refused(city, status):
    """S3.5c"""
    city.officer.employment_status = status
    city.officer.save()

    with pytest.raises(RuleViolation) as refusal:
        file_request(city)

    assert refusal.value.field == "person"
    assert not AccessRequest.objects.exists()


def test_access_for_a_deactivated_person_is_refused(city):
    """S3.5c"""
    city.officer.is_active = False
    city.officer.save()

    with pytest.raises(RuleViolation):
        file_request(city)

    assert not AccessRequest.objects.exists()


def test_a_request_filed_by_an_authorized_requester_waits_for_the_head(city):
    """S3.4c"""
    request = file_request(city, by=city.requester)

    assert request.status == AccessRequest.Status.AWAITING_HEAD
    assert request.approved_by is None and request.approved_at is None


def test_a_request_filed_by_the_head_for_someone_else_is_approved_at_once(city):
    """S3.4c: the head's own filing counts as the head's approval."""
    request = file_request(city, by=city.head)

    assert request.status == AccessRequest.Status.WITH_ITSA
    assert request.approved_by == city.head and request.approved_at is not None
    assert AuditEvent.objects.filter(actor=city.head, action="access_request.approve", target=str(request)).exists()


def test_the_same_request_filed_twice_while_the_first_is_open_is_refused(city):
    """S3.4c"""
    first = file_request(city)

    with pytest.raises(RuleViolation) as refusal:
        file_request(city)

    assert first.reference in refusal.value.message
    assert AccessRequest.objects.count() == 1


def test_the_same_request_may_be_filed_again_once_the_first_is_withdrawn(city):
    """S3.4c"""
    first = file_request(city)
    access_request_withdraw(request=first, by=city.requester)

    second = file_request(city)

    assert second.pk != first.pk and second.is_awaiting_head


def test_adding_a_role_the_person_already_holds_is_refused(city):
    """S3.4c"""
    provisioned(city)

    with pytest.raises(RuleViolation) as refusal:
        file_request(city)

    assert refusal.value.field == "role"


def test_a_change_that_asks_for_what_the_person_already_has_is_refused(city):
    """S3.4c"""
    provisioned(city)

    with pytest.raises(RuleViolation) as refusal:
        file_request(city, action="change", role="end_user", uses=[city.crime_detection])

    assert refusal.value.field == "role"
    assert not AccessRequest.objects.filter(action="change").exists()


def test_a_change_or_removal_of_access_the_person_does_not_hold_is_refused(city):
    """S3.4c"""
    for action in ("change", "remove", "suspend"):
        with pytest.raises(RuleViolation) as refusal:
            file_request(city, action=action)
        assert refusal.value.field == "action"

    assert not AccessRequest.objects.exists()


@pytest.mark.parametrize("field, value", [("action", "delete"), ("role", "superuser")])
def test_an_unknown_action_or_role_is_refused(city, field, value):
    """S3.4c"""
    with pytest.raises(RuleViolation) as refusal:
        file_request(city, **{field: value})

    assert refusal.value.field == field


# --- The written request (S3.4d) ---------------------------------------------------------------

def test_the_written_request_names_the_person_system_role_uses_and_conditions(city):
    """S3.4d T1"""
    request = file_request(city, uses=[city.crime_detection, city.investigations])
    text = request.written_text

    assert request.reference in text
    assert city.officer.full_name in text and city.officer.email in text
    assert city.vms.name in text
    assert "End user" in text
    assert city.crime_detection.name in text and city.investigations.name in text
    for condition in city.crime_detection.intended_use.condition_list():
        assert condition in text
    assert "Needs to review footage for open cases." in text
    assert request.written_sha256 == hashlib.sha256(text.encode()).hexdigest()


def test_the_written_request_lists_only_the_conditions_of_the_uses_named(city):
    """S3.4d T1"""
    request = file_request(city)
    traffic = PermissibleUse.objects.get(code="traffic-monitoring").intended_use

    for condition in traffic.condition_list():
        assert condition not in request.written_text


def test_the_written_request_is_frozen_after_later_edits_approval_and_provisioning(city):
    """S3.4d: the text filed is the text kept, whatever happens afterwards."""
    request = file_request(city)
    written, fingerprint = request.written_text, request.written_sha256

    city.officer.full_name = "Olive Renamed"
    city.officer.save()
    AccessRequest.objects.filter(pk=request.pk).update(justification="Something else entirely.")
    request = access_request_approve(request=request, by=city.head)
    request = access_request_provision(request=request, by=city.itsa, account_name="oofficer")

    request.refresh_from_db()
    assert request.written_text == written
    assert request.written_sha256 == fingerprint
    assert hashlib.sha256(request.written_text.encode()).hexdigest() == fingerprint
    assert "Olive Officer" in request.written_text and "Olive Renamed" not in request.written_text
    assert "Something else entirely." not in request.written_text


def test_the_written_request_is_frozen_when_the_request_is_saved_again(city):
    """S3.4d: saving the model does not re-render the text."""
    request = file_request(city)
    written = request.written_text

    request.justification = "Edited after filing."
    request.save()

    request.refresh_from_db()
    assert request.written_text == written
    assert hashlib.sha256(request.written_text.encode()).hexdigest() == request.written_sha256


def test_a_removal_keeps_the_uses_of_the_grant_it_removes(city):
    """S2.2 S3.4d"""
    grant = provisioned(city, uses=[city.crime_detection, city.investigations]).grant

    request = file_request(city, action="remove", uses=[], by=city.head)

    assert request.role == Grant.Role.END_USER
    assert set(request.permissible_uses.all()) == set(grant.permissible_uses.all())
    assert grant.account_name in request.written_text


def test_numbering_goes_on_past_99999_requests_in_a_year(city):
    """References are AR-<year>-<number>: past 99,999 the number gets a sixth digit, and the next
    request takes the number after the highest one, not after the highest text."""
    from django.utils import timezone

    year = timezone.localdate().year
    first = file_request(city)
    AccessRequest.objects.filter(pk=first.pk).update(reference=f"AR-{year}-99999")
    access_request_withdraw(request=AccessRequest.objects.get(pk=first.pk), by=city.requester)

    second = file_request(city)
    access_request_withdraw(request=second, by=city.requester)
    third = file_request(city)

    assert second.reference == f"AR-{year}-100000"
    assert third.reference == f"AR-{year}-100001"
