"""A grant's page: the requests that made and changed it, its permissible uses with Table 1's
conditions, and its timeline."""

from conftest import provisioned
from django.urls import reverse

from portal.models import AuditEvent


def _url(grant):
    return reverse("accounts:grant", args=[grant.pk])


def test_the_head_sees_the_grant_with_its_request_uses_and_conditions(city, client):
    """T1 S2.2"""
    request = provisioned(city, person=city.officer)
    client.force_login(city.head)
    response = client.get(_url(request.grant))
    assert response.status_code == 200
    page = response.content.decode()
    assert list(response.context["access_requests"]) == [request]
    assert request.reference in page
    assert "Detection of crime" in page
    for condition in city.crime_detection.intended_use.condition_list():
        assert condition in page
    assert request.grant.account_name in page


def test_a_changed_grant_lists_every_request_and_its_timeline(city, client):
    added = provisioned(city, person=city.officer)
    changed = provisioned(city, person=city.officer, action="change", uses=[city.investigations])
    client.force_login(city.head)
    response = client.get(_url(added.grant))
    assert set(response.context["access_requests"]) == {added, changed}
    assert "Criminal investigations" in response.content.decode()
    assert len(response.context["timeline"]) >= 2


def test_an_outsider_gets_404_on_a_police_grant_and_the_attempt_is_logged(city, client):
    grant = provisioned(city, person=city.officer).grant
    client.force_login(city.outsider)
    assert client.get(_url(grant)).status_code == 404
    assert AuditEvent.objects.filter(actor=city.outsider, action="grant.view", outcome="denied").exists()


def test_the_grant_holder_without_a_department_role_cannot_open_it(city, client):
    grant = provisioned(city, person=city.officer).grant
    client.force_login(city.officer)
    assert client.get(_url(grant)).status_code == 404


def test_itsa_sees_every_grant(city, client):
    grant = provisioned(city, person=city.officer).grant
    client.force_login(city.itsa)
    assert client.get(_url(grant)).status_code == 200


def test_anonymous_visitors_are_sent_to_sign_in(city, client):
    grant = provisioned(city, person=city.officer).grant
    response = client.get(_url(grant))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
