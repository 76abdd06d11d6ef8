"""The head approves or declines a request of their department (S3.4c)."""

from conftest import file_request, messages_of
from django.urls import reverse
from django.utils import timezone

from accounts.models import Grant
from portal.models import AuditEvent
from access_requests.models import AccessRequest


def _approve(client, request):
    return client.post(reverse("requests:approve", args=[request.pk]))


def _decline(client, request, reason="Not needed for this post."):
    return client.post(reverse("requests:decline", args=[request.pk]), {"reason": reason})


def test_the_head_approves_a_request_and_it_goes_to_itsa(city, client):
    """S3.4c S3.5a"""
    request = file_request(city)
    client.force_login(city.head)

    response = _approve(client, request)

    assert response.status_code == 302 and response.url == request.get_absolute_url()
    request.refresh_from_db()
    assert request.status == AccessRequest.Status.WITH_ITSA
    assert request.approved_by == city.head
    assert messages_of(response)[-1][0] == "success"


def test_approve_refuses_get(city, client):
    request = file_request(city)
    client.force_login(city.head)

    assert client.get(reverse("requests:approve", args=[request.pk])).status_code == 405
    request.refresh_from_db()
    assert request.is_awaiting_head


def test_the_head_of_another_department_gets_404_and_nothing_changes(city, client):
    """S3.4c: a head approves only their own department's end users."""
    request = file_request(city)
    client.force_login(city.outsider)

    assert _approve(client, request).status_code == 404
    request.refresh_from_db()
    assert request.is_awaiting_head
    assert AuditEvent.objects.filter(actor=city.outsider, outcome="denied").exists()


def test_a_second_approval_has_no_second_effect(city, client):
    request = file_request(city)
    client.force_login(city.head)
    _approve(client, request)
    approved_at = AccessRequest.objects.get(pk=request.pk).approved_at

    response = _approve(client, request)

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.approved_at == approved_at
    assert AuditEvent.objects.filter(action="access_request.approve", outcome="success").count() == 1
    assert messages_of(response)[-1][0] == "info"


def test_an_authorized_requester_who_is_not_the_head_cannot_approve(city, client):
    """S3.4c"""
    request = file_request(city, by=city.requester, person=city.analyst)
    client.force_login(city.requester)

    response = _approve(client, request)

    request.refresh_from_db()
    assert request.is_awaiting_head
    level, text = messages_of(response)[-1]
    assert level == "error" and "head" in text


def test_approval_is_refused_when_the_person_became_a_system_administrator_meanwhile(city, client):
    """S3.2b: a system administrator never becomes an end user of the system."""
    request = file_request(city)
    Grant.objects.create(person=city.officer, system=city.vms, department=city.police, role="administrator",
                         account_name="olive-admin", provisioned_at=timezone.now(), provisioned_by=city.itsa)
    client.force_login(city.head)

    response = _approve(client, request)

    request.refresh_from_db()
    assert request.is_awaiting_head
    level, text = messages_of(response)[-1]
    assert level == "error" and "3.2" in text


def test_the_head_declines_with_a_reason(city, client):
    request = file_request(city)
    client.force_login(city.head)

    response = _decline(client, request, reason="Olive moves to the front desk.")

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == AccessRequest.Status.DECLINED
    assert request.head_reason == "Olive moves to the front desk."


def test_decline_refuses_get(city, client):
    request = file_request(city)
    client.force_login(city.head)

    assert client.get(reverse("requests:decline", args=[request.pk])).status_code == 405


def test_decline_by_another_department_answers_404(city, client):
    request = file_request(city)
    client.force_login(city.outsider)

    assert _decline(client, request).status_code == 404
    request.refresh_from_db()
    assert request.is_awaiting_head


def test_a_second_decline_keeps_the_first_reason(city, client):
    request = file_request(city)
    client.force_login(city.head)
    _decline(client, request, reason="First reason.")

    response = _decline(client, request, reason="Second reason.")

    request.refresh_from_db()
    assert request.head_reason == "First reason."
    assert AuditEvent.objects.filter(action="access_request.decline").count() == 1
    assert messages_of(response)[-1][0] == "info"


def test_a_decline_without_a_reason_is_refused(city, client):
    request = file_request(city)
    client.force_login(city.head)

    response = _decline(client, request, reason="   ")

    request.refresh_from_db()
    assert request.is_awaiting_head
    level, text = messages_of(response)[-1]
    assert level == "error" and "reason" in text


def test_a_head_cannot_approve_their_own_access_but_the_designee_can(city, client):
    """S3.4c: nobody approves their own access."""
    request = file_request(city, person=city.head, by=city.requester)
    client.force_login(city.head)
    assert reverse("requests:approve", args=[request.pk]) not in client.get(request.get_absolute_url()).content.decode()
    _approve(client, request)
    request.refresh_from_db()
    assert request.is_awaiting_head

    client.force_login(city.designee)
    _approve(client, request)

    request.refresh_from_db()
    assert request.is_with_itsa and request.approved_by == city.designee
