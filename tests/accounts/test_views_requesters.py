"""The requester lists ITSA keeps per department (S3.3): ITSA only."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuthorizedRequester
from accounts.services import authorized_requester_add, authorized_requester_end
from portal.models import AuditEvent

URL = reverse("accounts:requesters")


def _people(response):
    return {entry.person for entry in response.context["page_obj"]}


def test_itsa_sees_every_department_list_with_an_add_form_and_end_buttons(city, client):
    """S3.3"""
    client.force_login(city.itsa)
    response = client.get(URL)
    assert response.status_code == 200
    assert _people(response) == {city.head, city.requester, city.outsider}
    page = response.content.decode()
    assert reverse("accounts:requester_add") in page
    for entry in AuthorizedRequester.objects.all():
        assert reverse("accounts:requester_end", args=[entry.pk]) in page


def test_an_ended_entry_is_tagged_and_has_no_end_button(city, client):
    today = timezone.localdate()
    entry = authorized_requester_add(department=city.police, person=city.analyst, by=city.itsa,
                                     start_date=today - timedelta(days=10))
    authorized_requester_end(entry=entry, by=city.itsa, end_date=today - timedelta(days=1))
    client.force_login(city.itsa)
    response = client.get(URL, {"q": "analyst"})
    page = response.content.decode()
    assert _people(response) == {city.analyst}
    assert "Ended" in page
    assert reverse("accounts:requester_end", args=[entry.pk]) not in page


@pytest.mark.parametrize("q", ["streets", "Oscar", "head@streets"])
def test_the_search_finds_entries_by_department_or_person(city, client, q):
    client.force_login(city.itsa)
    response = client.get(URL, {"q": q})
    assert _people(response) == {city.outsider}


@pytest.mark.parametrize("who", ["head", "requester", "outsider", "designee", "officer"])
def test_everyone_but_itsa_gets_404_and_the_attempt_is_logged(city, client, who):
    user = getattr(city, who)
    client.force_login(user)
    assert client.get(URL).status_code == 404
    assert AuditEvent.objects.filter(actor=user, action="requesters.view", outcome="denied").exists()


def test_anonymous_visitors_are_sent_to_sign_in(city, client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
