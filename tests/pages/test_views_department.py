"""A department's page: head, authorized requesters, systems it may use, people, timeline."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from accounts.services import authorized_requester_add, authorized_requester_end
from portal.models import AuditEvent


def _url(department):
    return reverse("accounts:department", args=[department.pk])


def test_the_head_sees_their_department(city, client):
    """S3.3 S3.4b"""
    client.force_login(city.head)
    response = client.get(_url(city.police))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Hana Head" in page
    assert {entry.person for entry in response.context["requesters"]} == {city.head, city.requester}
    assert [access.system for access in response.context["system_access"]] == [city.vms]
    assert "Public safety" in page
    assert response.context["people_count"] == 4


def test_past_requesters_stay_on_the_page_tagged_as_ended(city, client):
    today = timezone.localdate()
    entry = authorized_requester_add(department=city.police, person=city.analyst, by=city.itsa,
                                     start_date=today - timedelta(days=30))
    authorized_requester_end(entry=entry, by=city.itsa, end_date=today - timedelta(days=1))
    client.force_login(city.head)
    response = client.get(_url(city.police))
    assert entry in response.context["requesters"]
    assert "Ended" in response.content.decode()


def test_systems_whose_access_is_not_granted_are_not_listed(city, client):
    client.force_login(city.outsider)
    response = client.get(_url(city.streets))
    assert [access.system for access in response.context["system_access"]] == [city.traffic]
    assert "Citywide VMS" not in response.content.decode()


def test_an_outsider_gets_404_on_the_police_department_and_the_attempt_is_logged(city, client):
    client.force_login(city.outsider)
    assert client.get(_url(city.police)).status_code == 404
    assert AuditEvent.objects.filter(actor=city.outsider, action="department.view", outcome="denied").exists()


def test_a_person_without_a_department_role_cannot_open_their_department(city, client):
    client.force_login(city.officer)
    assert client.get(_url(city.police)).status_code == 404


def test_itsa_sees_every_department(city, client):
    client.force_login(city.itsa)
    assert client.get(_url(city.police)).status_code == 200
    assert client.get(_url(city.streets)).status_code == 200


def test_anonymous_visitors_are_sent_to_sign_in(city, client):
    response = client.get(_url(city.police))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
