"""A person's page: details, grants, access requests and timeline, for those who may see the person."""

from conftest import file_request, provisioned
from django.urls import reverse

from accounts.models import User
from portal.models import AuditEvent


def _url(person):
    return reverse("accounts:person", args=[person.pk])


def test_the_head_sees_a_person_of_their_department_with_grants_requests_and_timeline(city, client):
    request = provisioned(city, person=city.officer)
    client.force_login(city.head)
    response = client.get(_url(city.officer))
    assert response.status_code == 200
    page = response.content.decode()
    assert response.context["live_grants"] == [request.grant]
    assert request.grant.account_name in page
    assert reverse("accounts:grant", args=[request.grant.pk]) in page
    assert "Detection of crime" in page
    assert request.reference in page
    assert reverse("requests:detail", args=[request.pk]) in page
    assert response.context["timeline"]


def test_removed_grants_are_listed_as_ended_access(city, client):
    granted = provisioned(city, person=city.officer)
    provisioned(city, person=city.officer, action="remove")
    granted.grant.refresh_from_db()
    client.force_login(city.head)
    response = client.get(_url(city.officer))
    assert response.context["live_grants"] == []
    assert response.context["ended_grants"] == [granted.grant]
    assert "Ended access" in response.content.decode()


def test_an_outsider_gets_404_on_a_police_person_and_the_attempt_is_logged(city, client):
    client.force_login(city.outsider)
    response = client.get(_url(city.officer))
    assert response.status_code == 404
    assert AuditEvent.objects.filter(actor=city.outsider, action="person.view", outcome="denied").exists()


def test_a_person_without_a_department_role_cannot_open_a_colleagues_page(city, client):
    client.force_login(city.analyst)
    assert client.get(_url(city.officer)).status_code == 404


def test_itsa_sees_every_person_and_their_requests(city, client):
    request = file_request(city, person=city.officer)
    client.force_login(city.itsa)
    response = client.get(_url(city.officer))
    assert response.status_code == 200
    assert list(response.context["access_requests"]) == [request]
    assert client.get(_url(city.streets_worker)).status_code == 200


def test_anonymous_visitors_are_sent_to_sign_in(city, client):
    response = client.get(_url(city.officer))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_an_unknown_person_is_404(city, client):
    client.force_login(city.itsa)
    assert client.get(reverse("accounts:person", args=[999999])).status_code == 404


def test_the_head_is_offered_to_report_a_status_change(city, client):
    """S3.5c"""
    client.force_login(city.head)
    response = client.get(_url(city.officer))
    assert reverse("requests:status_change", args=[city.officer.pk]) in response.content.decode()


def test_an_authorized_requester_who_is_not_the_head_is_not_offered_to_report_a_status_change(city, client):
    client.force_login(city.requester)
    response = client.get(_url(city.officer))
    assert response.status_code == 200
    assert reverse("requests:status_change", args=[city.officer.pk]) not in response.content.decode()


def test_itsa_is_not_offered_to_report_a_status_change(city, client):
    client.force_login(city.itsa)
    response = client.get(_url(city.officer))
    assert reverse("requests:status_change", args=[city.officer.pk]) not in response.content.decode()


def test_user_text_on_the_page_is_escaped(city, client):
    User.objects.filter(pk=city.officer.pk).update(title="<script>alert(1)</script>")
    client.force_login(city.head)
    page = client.get(_url(city.officer)).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
