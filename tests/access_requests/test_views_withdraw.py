"""The person who filed a request, or the head, takes it back while it is open."""

from conftest import file_request, messages_of, provisioned
from django.urls import reverse

from portal.models import AuditEvent
from access_requests.models import AccessRequest


def _withdraw(client, request):
    return client.post(reverse("requests:withdraw", args=[request.pk]))


def test_the_requester_withdraws_an_open_request(city, client):
    request = file_request(city)
    client.force_login(city.requester)

    response = _withdraw(client, request)

    assert response.status_code == 302 and response.url == request.get_absolute_url()
    request.refresh_from_db()
    assert request.status == AccessRequest.Status.WITHDRAWN
    assert messages_of(response)[-1][0] == "success"


def test_the_head_withdraws_a_request_with_itsa(city, client):
    request = file_request(city, by=city.head)
    client.force_login(city.head)

    _withdraw(client, request)

    request.refresh_from_db()
    assert request.status == AccessRequest.Status.WITHDRAWN


def test_withdraw_refuses_get(city, client):
    request = file_request(city)
    client.force_login(city.requester)

    assert client.get(reverse("requests:withdraw", args=[request.pk])).status_code == 405
    request.refresh_from_db()
    assert request.is_open


def test_another_department_gets_404(city, client):
    request = file_request(city)
    client.force_login(city.outsider)

    assert _withdraw(client, request).status_code == 404
    request.refresh_from_db()
    assert request.is_open


def test_a_second_withdrawal_has_no_second_effect(city, client):
    request = file_request(city)
    client.force_login(city.requester)
    _withdraw(client, request)

    response = _withdraw(client, request)

    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="access_request.withdraw").count() == 1
    assert messages_of(response)[-1][0] == "info"


def test_itsa_cannot_withdraw_a_departments_request(city, client):
    request = file_request(city, by=city.head)
    client.force_login(city.itsa)

    response = _withdraw(client, request)

    request.refresh_from_db()
    assert request.is_with_itsa
    assert messages_of(response)[-1][0] == "error"


def test_a_completed_request_cannot_be_withdrawn(city, client):
    request = provisioned(city)
    client.force_login(city.requester)

    response = _withdraw(client, request)

    request.refresh_from_db()
    assert request.status == AccessRequest.Status.COMPLETED
    level, text = messages_of(response)[-1]
    assert level == "error" and "cannot be withdrawn" in text
