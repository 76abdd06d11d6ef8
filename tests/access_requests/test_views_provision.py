"""ITSA carries out an approved request, or returns it with a reason (S3.5b)."""

import pytest
from conftest import file_request, messages_of
from django.urls import reverse
from django.utils import timezone

from accounts.models import Grant
from access_requests.models import AccessRequest


def _provision(client, request, account_name="olive.officer"):
    return client.post(reverse("requests:provision", args=[request.pk]), {"account_name": account_name})


def _return(client, request, reason="The signed copy is missing."):
    return client.post(reverse("requests:return", args=[request.pk]), {"reason": reason})


@pytest.fixture
def approved(city):
    return file_request(city, by=city.head)


def test_itsa_records_the_new_account_and_the_grant_exists(city, client, approved):
    """S3.5b"""
    client.force_login(city.itsa)

    response = _provision(client, approved)

    assert response.status_code == 302 and response.url == approved.get_absolute_url()
    approved.refresh_from_db()
    assert approved.status == AccessRequest.Status.COMPLETED
    assert approved.processed_by == city.itsa
    grant = approved.grant
    assert (grant.person, grant.system, grant.role, grant.account_name) == (city.officer, city.vms, "end_user",
                                                                             "olive.officer")
    assert messages_of(response)[-1][0] == "success"


def test_provision_refuses_get(city, client, approved):
    client.force_login(city.itsa)

    assert client.get(reverse("requests:provision", args=[approved.pk])).status_code == 405
    approved.refresh_from_db()
    assert approved.is_with_itsa


def test_someone_outside_the_department_and_itsa_gets_404(city, client, approved):
    client.force_login(city.outsider)

    assert _provision(client, approved).status_code == 404
    approved.refresh_from_db()
    assert approved.is_with_itsa


def test_a_double_submitted_provisioning_creates_one_grant(city, client, approved):
    client.force_login(city.itsa)
    _provision(client, approved)

    response = _provision(client, approved, account_name="another.name")

    assert response.status_code == 302
    assert Grant.objects.filter(person=city.officer, system=city.vms).count() == 1
    approved.refresh_from_db()
    assert approved.account_name == "olive.officer"
    assert messages_of(response)[-1][0] == "info"


def test_only_itsa_provisions(city, client, approved):
    """S3.5b: ITSA creates and manages all end-user accounts."""
    client.force_login(city.head)

    response = _provision(client, approved)

    approved.refresh_from_db()
    assert approved.is_with_itsa
    assert not Grant.objects.filter(person=city.officer).exists()
    level, text = messages_of(response)[-1]
    assert level == "error" and "ITSA" in text


def test_a_new_account_needs_its_name(city, client, approved):
    client.force_login(city.itsa)

    response = _provision(client, approved, account_name="")

    approved.refresh_from_db()
    assert approved.is_with_itsa
    assert response.status_code == 200
    assert response.context["provision_form"].errors["account_name"]
    assert "usa-input--error" in response.content.decode()


def test_provisioning_is_refused_when_it_would_break_separation_of_duties(city, client, approved):
    """S3.2b: the person became an administrator of the system after the request was approved."""
    Grant.objects.create(person=city.officer, system=city.vms, department=city.police, role="administrator",
                         account_name="olive-admin", provisioned_at=timezone.now(), provisioned_by=city.itsa2)
    client.force_login(city.itsa)

    response = _provision(client, approved)

    approved.refresh_from_db()
    assert approved.is_with_itsa
    assert not Grant.objects.filter(person=city.officer, role="end_user").exists()
    level, text = messages_of(response)[-1]
    assert level == "error" and "3.2" in text


def test_itsa_returns_a_request_with_a_reason(city, client, approved):
    client.force_login(city.itsa)

    response = _return(client, approved, reason="Attach the signed copy.")

    assert response.status_code == 302
    approved.refresh_from_db()
    assert approved.status == AccessRequest.Status.RETURNED
    assert approved.return_reason == "Attach the signed copy."
    assert not Grant.objects.filter(person=city.officer).exists()


def test_return_refuses_get(city, client, approved):
    client.force_login(city.itsa)

    assert client.get(reverse("requests:return", args=[approved.pk])).status_code == 405


def test_return_by_another_department_answers_404(city, client, approved):
    client.force_login(city.streets_worker)

    assert _return(client, approved).status_code == 404
    approved.refresh_from_db()
    assert approved.is_with_itsa


def test_a_second_return_keeps_the_first_reason(city, client, approved):
    client.force_login(city.itsa)
    _return(client, approved, reason="First.")

    response = _return(client, approved, reason="Second.")

    approved.refresh_from_db()
    assert approved.return_reason == "First."
    assert messages_of(response)[-1][0] == "info"


def test_the_head_cannot_return_a_request_to_themselves(city, client, approved):
    client.force_login(city.head)

    response = _return(client, approved)

    approved.refresh_from_db()
    assert approved.is_with_itsa
    assert messages_of(response)[-1][0] == "error"


def test_a_return_without_a_reason_is_refused(city, client, approved):
    client.force_login(city.itsa)

    response = _return(client, approved, reason="")

    approved.refresh_from_db()
    assert approved.is_with_itsa
    level, text = messages_of(response)[-1]
    assert level == "error" and "reason" in text
