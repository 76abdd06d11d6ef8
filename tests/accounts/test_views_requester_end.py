"""ITSA takes a person off a department's list of authorized requesters (S3.3); the past stays on record."""

from datetime import timedelta

from conftest import messages_of
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuthorizedRequester, User
from accounts.services import DEPARTMENT_PERM, authorized_requester_add
from portal.models import AuditEvent


def _url(entry):
    return reverse("accounts:requester_end", args=[entry.pk])


def _analyst_on_file(city, days=10):
    return authorized_requester_add(department=city.police, person=city.analyst, by=city.itsa,
                                    start_date=timezone.localdate() - timedelta(days=days))


def test_itsa_ends_an_entry_and_the_person_loses_the_department(city, client):
    """S3.3"""
    entry = _analyst_on_file(city)
    yesterday = timezone.localdate() - timedelta(days=1)
    client.force_login(city.itsa)
    response = client.post(_url(entry), {"end_date": yesterday.isoformat()})
    assert response.status_code == 302
    assert response.url == reverse("accounts:requesters")
    entry.refresh_from_db()
    assert entry.end_date == yesterday
    assert not User.objects.get(pk=city.analyst.pk).has_perm(DEPARTMENT_PERM, city.police)
    assert any("off the list" in message for message in messages_of(response, levels=False))


def test_without_a_date_the_entry_ends_today(city, client):
    entry = _analyst_on_file(city)
    client.force_login(city.itsa)
    client.post(_url(entry))
    entry.refresh_from_db()
    assert entry.end_date == timezone.localdate()


def test_get_is_not_allowed(city, client):
    entry = _analyst_on_file(city)
    client.force_login(city.itsa)
    assert client.get(_url(entry)).status_code == 405
    entry.refresh_from_db()
    assert entry.end_date is None


def test_the_department_head_is_refused_with_a_message(city, client):
    """S3.3"""
    entry = _analyst_on_file(city)
    client.force_login(city.head)
    response = client.post(_url(entry))
    assert response.status_code == 302
    assert response.url == reverse("accounts:department", args=[city.police.pk])
    entry.refresh_from_db()
    assert entry.end_date is None
    assert any("Only ITSA administrators" in message for message in messages_of(response, levels=False))
    assert AuditEvent.objects.filter(actor=city.head, action="requester.end", outcome="denied").exists()


def test_an_outsider_gets_404_and_the_attempt_is_logged(city, client):
    entry = _analyst_on_file(city)
    client.force_login(city.outsider)
    assert client.post(_url(entry)).status_code == 404
    entry.refresh_from_db()
    assert entry.end_date is None
    assert AuditEvent.objects.filter(actor=city.outsider, action="requester.view", outcome="denied").exists()


def test_a_repeated_post_has_one_effect(city, client):
    entry = _analyst_on_file(city)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    client.force_login(city.itsa)
    client.post(_url(entry), {"end_date": yesterday})
    client.post(_url(entry), {"end_date": yesterday})
    entry.refresh_from_db()
    assert entry.end_date.isoformat() == yesterday
    assert AuditEvent.objects.filter(action="requester.end").count() == 1
    assert entry.history.filter(history_type="~").count() == 1


def test_an_end_date_before_the_start_is_refused_with_a_message(city, client):
    entry = _analyst_on_file(city, days=2)
    client.force_login(city.itsa)
    response = client.post(_url(entry), {"end_date": (timezone.localdate() - timedelta(days=5)).isoformat()})
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.end_date is None
    assert any("on or after the start date" in message for message in messages_of(response, levels=False))


def test_a_malformed_date_is_refused_with_a_message(city, client):
    entry = _analyst_on_file(city)
    client.force_login(city.itsa)
    response = client.post(_url(entry), {"end_date": "soon"})
    entry.refresh_from_db()
    assert entry.end_date is None
    assert messages_of(response, levels=False)


def test_an_unknown_entry_is_404(city, client):
    client.force_login(city.itsa)
    assert client.post(reverse("accounts:requester_end", args=[999999])).status_code == 404
    assert AuthorizedRequester.objects.filter(end_date__isnull=False).count() == 0
