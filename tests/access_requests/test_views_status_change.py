"""The head tells ITSA that a person left, transferred or went on leave (S3.5c)."""

import pytest
from conftest import provisioned
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import User
from access_requests.models import AccessRequest, StatusChange


def _url(person):
    return reverse("requests:status_change", args=[person.pk])


def _report(client, person, kind="left", effective_date="2030-01-31", note="Retired."):
    return client.post(_url(person), {"kind": kind, "effective_date": effective_date, "note": note})


def test_the_head_sees_the_form(city, client):
    client.force_login(city.head)

    response = client.get(_url(city.officer))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="kind"' in page and 'name="effective_date"' in page and 'type="date"' in page


def test_the_head_reports_a_departure_and_every_grant_is_queued_for_removal(city, client):
    """S3.5c"""
    grant = provisioned(city).grant
    client.force_login(city.head)

    response = _report(client, city.officer)

    assert response.status_code == 302 and response.url == city.officer.get_absolute_url()
    removal = AccessRequest.objects.get(grant=grant, action="remove")
    assert removal.is_with_itsa and removal.status_change.kind == StatusChange.Kind.LEFT
    assert User.objects.get(pk=city.officer.pk).employment_status == "left"
    message = [str(m) for m in get_messages(response.wsgi_request)][-1]
    assert "1 grant queued for ITSA to remove" in message


def test_leave_queues_a_suspension(city, client):
    """S3.5c"""
    grant = provisioned(city).grant
    client.force_login(city.head)

    _report(client, city.officer, kind="on_leave")

    assert AccessRequest.objects.get(grant=grant, action="suspend").is_with_itsa


@pytest.mark.parametrize("who", ["outsider", "streets_worker"])
def test_another_department_gets_404(city, client, who):
    provisioned(city)
    client.force_login(getattr(city, who))

    assert client.get(_url(city.officer)).status_code == 404
    assert _report(client, city.officer).status_code == 404
    assert not StatusChange.objects.exists()


def test_a_second_report_queues_nothing_more(city, client):
    provisioned(city)
    client.force_login(city.head)
    _report(client, city.officer)
    queued = AccessRequest.objects.filter(action="remove").count()

    response = _report(client, city.officer)

    assert response.status_code == 302
    assert AccessRequest.objects.filter(action="remove").count() == queued == 1


@pytest.mark.parametrize("who", ["requester", "itsa"])
def test_only_the_head_of_the_persons_department_reports(city, client, who):
    """S3.5c: the head keeps ITSA informed."""
    provisioned(city)
    client.force_login(getattr(city, who))

    response = _report(client, city.officer)

    assert response.status_code == 200
    assert "Only the head" in response.content.decode()
    assert not StatusChange.objects.exists()


def test_a_date_that_is_not_a_date_is_refused(city, client):
    client.force_login(city.head)

    response = _report(client, city.officer, effective_date="next tuesday")

    assert response.status_code == 200
    assert 'id="id_effective_date_error"' in response.content.decode()
    assert not StatusChange.objects.exists()


def test_status_change_refuses_other_methods(city, client):
    client.force_login(city.head)

    assert client.delete(_url(city.officer)).status_code == 405
