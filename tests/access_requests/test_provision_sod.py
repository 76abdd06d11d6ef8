"""S3.2c: creating, changing, suspending or removing an account on a system is administering it.
An ITSA member who holds end-user access to the system, or whom the request is about, does not
provision it: the service refuses, the refusal is audited and kept as a finding, and the request
page says why and that another member of ITSA must do it."""

import pytest
from conftest import file_request, messages_of
from django.urls import reverse
from django.utils import timezone

from access_requests.models import AccessRequest
from access_requests.services import (
    access_request_provision, may_provision, provision_refusal, provisioners,
)
from accounts.models import Grant, SodFinding
from portal.errors import NotAllowed
from portal.models import AuditEvent

END_USER_REFUSAL = ("You hold end-user access to Citywide VMS: creating, changing or removing accounts on it is "
                    "administering it (Section 3.2). Another member of ITSA must do it.")
OWN_REFUSAL = "This request is about you: another member of ITSA must provision it."


def _itsa_in_police(city):
    city.itsa.department = city.police
    city.itsa.save()


def _give_itsa_end_user_access(city, *, system=None, role="end_user"):
    """Ida (ITSA) gets her own access to a system the proper way: filed by the head, provisioned
    by Ike, the other ITSA member."""
    _itsa_in_police(city)
    request = file_request(city, person=city.itsa, system=system, role=role, by=city.head)
    return access_request_provision(request=request, by=city.itsa2, account_name=f"iitsa-{role}").grant


def _officer_grant(city):
    """The officer's end-user grant on the VMS, provisioned by Ike."""
    request = file_request(city, by=city.head)
    return access_request_provision(request=request, by=city.itsa2, account_name="oofficer").grant


def _request(city, action):
    if action == "add":
        return file_request(city, by=city.head)
    _officer_grant(city)
    if action == "change":
        return file_request(city, action="change", uses=[city.crime_detection, city.investigations], by=city.head)
    return file_request(city, action=action, uses=[], by=city.head)


def _grant_state(request):
    grant = Grant.objects.filter(pk=request.grant_id).first() if request.grant_id else None
    return None if grant is None else (grant.role, grant.status, grant.account_name,
                                       sorted(grant.permissible_uses.values_list("pk", flat=True)))


@pytest.mark.parametrize("action", ["add", "change", "suspend", "remove"])
def test_s3_2c_an_itsa_member_with_end_user_access_to_the_system_is_refused(city, action):
    """S3.2c: refused at the service, whatever the action; nothing is written."""
    _give_itsa_end_user_access(city)
    request = _request(city, action)
    grants, before = Grant.objects.count(), _grant_state(request)

    assert not may_provision(request=request, user=city.itsa)
    with pytest.raises(NotAllowed) as refusal:
        access_request_provision(request=request, by=city.itsa, account_name="oofficer")

    assert refusal.value.message == END_USER_REFUSAL
    request.refresh_from_db()
    assert request.is_with_itsa and request.processed_by is None
    assert (Grant.objects.count(), _grant_state(request)) == (grants, before)


def test_s3_2c_the_refusal_is_in_the_audit_trail_and_kept_as_a_prevented_finding(city):
    """S3.2c: the refused attempt outlives its rollback, in the trail and in the findings (2.5)."""
    _give_itsa_end_user_access(city)
    request = _request(city, "add")

    with pytest.raises(NotAllowed):
        access_request_provision(request=request, by=city.itsa, account_name="oofficer")

    event = AuditEvent.objects.get(action="access_request.provision", outcome="refused", actor=city.itsa)
    assert event.detail == END_USER_REFUSAL and request.reference in event.target
    finding = SodFinding.objects.get()
    assert (finding.person, finding.system, finding.stage, finding.resolution) == (
        city.itsa, city.vms, SodFinding.Stage.PROVISIONING, SodFinding.Resolution.PREVENTED)
    assert "Ida ITSA holds end-user access to Citywide VMS" in finding.detail
    assert request.reference in finding.detail


def test_s3_2c_another_itsa_member_without_access_provisions_the_same_request(city):
    """S3.2c: the rule names the person, not the request: Ike, who holds no access, does it."""
    _give_itsa_end_user_access(city)
    request = _request(city, "add")

    assert may_provision(request=request, user=city.itsa2)
    request = access_request_provision(request=request, by=city.itsa2, account_name="oofficer")

    assert request.status == AccessRequest.Status.COMPLETED and request.grant.provisioned_by == city.itsa2
    assert list(provisioners(request=request)) == [city.itsa2]


def test_s3_2c_an_itsa_member_never_provisions_a_request_about_themselves(city):
    """S3.2c: nobody does it for themselves; the refusal says so and is kept."""
    _itsa_in_police(city)
    request = file_request(city, person=city.itsa, by=city.head)

    assert provision_refusal(request=request, user=city.itsa) == OWN_REFUSAL
    with pytest.raises(NotAllowed) as refusal:
        access_request_provision(request=request, by=city.itsa, account_name="iitsa")

    assert refusal.value.message == OWN_REFUSAL
    assert not Grant.objects.exists()
    assert AuditEvent.objects.filter(action="access_request.provision", outcome="refused", actor=city.itsa,
                                     detail=OWN_REFUSAL).exists()
    assert SodFinding.objects.get().detail.startswith("Ida ITSA tried to provision their own request")


def test_s3_2c_suspended_end_user_access_still_counts(city):
    """S3.2c: a suspended grant is still access the person holds (it is reinstated without a request)."""
    own = _give_itsa_end_user_access(city)
    suspension = file_request(city, person=city.itsa, action="suspend", uses=[], by=city.head)
    access_request_provision(request=suspension, by=city.itsa2)
    own.refresh_from_db()
    assert own.status == Grant.Status.SUSPENDED

    assert provision_refusal(request=_request(city, "add"), user=city.itsa) == END_USER_REFUSAL


def test_s3_2c_a_staff_role_or_end_user_access_to_another_system_does_not_count(city):
    """S3.2c: only end-user access to the same system bars provisioning; administering the system
    is what its staff (an auditor here) are for."""
    request = _request(city, "add")
    _give_itsa_end_user_access(city, role="auditor")
    Grant.objects.create(person=city.itsa, system=city.lpr, department=city.police, role="end_user",
                         account_name="iitsa-lpr", provisioned_at=timezone.now(), provisioned_by=city.itsa2)

    assert provision_refusal(request=request, user=city.itsa) is None
    assert access_request_provision(request=request, by=city.itsa, account_name="oofficer").grant


def test_s3_2c_once_the_end_user_access_is_removed_the_member_may_provision_again(city):
    """S3.2c"""
    _give_itsa_end_user_access(city)
    removal = file_request(city, person=city.itsa, action="remove", uses=[], by=city.head)
    access_request_provision(request=removal, by=city.itsa2)
    request = _request(city, "add")

    request = access_request_provision(request=request, by=city.itsa, account_name="oofficer")

    assert request.status == AccessRequest.Status.COMPLETED


# --- The request page ------------------------------------------------------------------------------

def _page(client, request):
    return client.get(reverse("requests:detail", args=[request.pk]))


def test_s3_2c_the_page_explains_why_and_who_else_may_do_it(city, client):
    """S3.2c: no provision form; the reason and another member of ITSA, named."""
    _give_itsa_end_user_access(city)
    request = _request(city, "add")
    client.force_login(city.itsa)

    response = _page(client, request)

    assert response.status_code == 200
    page = response.content.decode()
    assert reverse("requests:provision", args=[request.pk]) not in page
    assert response.context["provision_refusal"] == END_USER_REFUSAL
    assert "You hold end-user access to Citywide VMS: creating, changing or removing accounts on it is" in page
    assert "Another member of ITSA must do it." in page
    assert response.context["provisioners"] == [city.itsa2]
    assert "Ike ITSA" in page


def test_s3_2c_the_page_says_a_request_about_you_is_for_another_member(city, client):
    """S3.2c"""
    _itsa_in_police(city)
    request = file_request(city, person=city.itsa, by=city.head)
    client.force_login(city.itsa)

    page = _page(client, request).content.decode()

    assert OWN_REFUSAL in page
    assert reverse("requests:provision", args=[request.pk]) not in page


def test_s3_2c_the_page_says_so_when_no_other_member_may_do_it(city, client):
    """S3.2c: the hint stays true when every other member of ITSA is barred too."""
    _give_itsa_end_user_access(city)
    Grant.objects.create(person=city.itsa2, system=city.vms, department=city.police, role="end_user",
                         account_name="iitsa2", provisioned_at=timezone.now(), provisioned_by=city.itsa)
    request = file_request(city, by=city.head)
    client.force_login(city.itsa)

    response = _page(client, request)

    assert response.context["provisioners"] == []
    assert "No member of ITSA may provision it right now" in response.content.decode()


def test_s3_2c_a_member_who_may_provision_sees_the_form_and_no_refusal(city, client):
    """S3.2c"""
    request = _request(city, "add")
    client.force_login(city.itsa2)

    response = _page(client, request)

    assert response.context["provision_refusal"] is None
    assert reverse("requests:provision", args=[request.pk]) in response.content.decode()


def test_s3_2c_the_department_sees_no_itsa_refusal(city, client):
    """S3.2c: the explanation is for ITSA; the head of the department sees the request as before."""
    request = _request(city, "add")
    client.force_login(city.head)

    assert _page(client, request).context["provision_refusal"] is None


def test_s3_2c_a_post_by_a_member_with_end_user_access_is_refused_with_the_reason(city, client):
    """S3.2c: the way around the page (a direct POST) is refused with the message; nothing written."""
    _give_itsa_end_user_access(city)
    request = _request(city, "add")
    client.force_login(city.itsa)

    response = client.post(reverse("requests:provision", args=[request.pk]), {"account_name": "oofficer"})

    assert response.status_code == 302 and response.url == request.get_absolute_url()
    assert messages_of(response) == [("error", END_USER_REFUSAL)]
    request.refresh_from_db()
    assert request.is_with_itsa and request.grant is None
    assert not Grant.objects.filter(person=city.officer).exists()


def test_s3_2c_a_post_about_yourself_is_refused_with_the_reason(city, client):
    """S3.2c"""
    _itsa_in_police(city)
    request = file_request(city, person=city.itsa, by=city.head)
    client.force_login(city.itsa)

    response = client.post(reverse("requests:provision", args=[request.pk]), {"account_name": "iitsa"})

    assert response.status_code == 302
    assert messages_of(response) == [("error", OWN_REFUSAL)]
    assert not Grant.objects.exists()
