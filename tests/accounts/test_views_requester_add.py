"""ITSA puts a person on a department's list of authorized requesters (S3.3)."""

from conftest import messages_of
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuthorizedRequester, User
from accounts.services import DEPARTMENT_PERM
from portal.models import AuditEvent

URL = reverse("accounts:requester_add")


def _form(department, person, **extra):
    return {"department": department.pk, "person": person.pk, "start_date": timezone.localdate().isoformat(), **extra}


def _entries(city, person):
    return AuthorizedRequester.objects.filter(department=city.police, person=person)


def test_itsa_adds_a_person_of_the_department(city, client):
    """S3.3"""
    client.force_login(city.itsa)
    response = client.post(URL, _form(city.police, city.officer))
    assert response.status_code == 302
    assert response.url == reverse("accounts:requesters")
    entry = _entries(city, city.officer).get()
    assert entry.added_by == city.itsa and entry.end_date is None
    assert User.objects.get(pk=city.officer.pk).has_perm(DEPARTMENT_PERM, city.police)
    assert any("is on the list of Police Department from" in message for message in messages_of(response, levels=False))


def test_an_end_date_can_be_given(city, client):
    end = timezone.localdate() + timezone.timedelta(days=60)
    client.force_login(city.itsa)
    client.post(URL, _form(city.police, city.officer, end_date=end.isoformat()))
    assert _entries(city, city.officer).get().end_date == end


def test_get_is_not_allowed(city, client):
    client.force_login(city.itsa)
    assert client.get(URL).status_code == 405


def test_a_department_head_is_refused_with_a_message_and_nothing_is_added(city, client):
    """S3.3"""
    client.force_login(city.head)
    response = client.post(URL, _form(city.police, city.officer))
    assert response.status_code == 302
    assert not _entries(city, city.officer).exists()
    assert any("Only ITSA administrators" in message for message in messages_of(response, levels=False))
    assert AuditEvent.objects.filter(actor=city.head, action="requester.add", outcome="denied").exists()


def test_a_repeated_post_adds_the_person_once(city, client):
    client.force_login(city.itsa)
    client.post(URL, _form(city.police, city.officer))
    response = client.post(URL, _form(city.police, city.officer))
    assert _entries(city, city.officer).count() == 1
    assert any("already on the list" in message for message in messages_of(response, levels=False))


def test_a_person_of_another_department_is_refused_with_a_message(city, client):
    """S3.3"""
    client.force_login(city.itsa)
    response = client.post(URL, _form(city.police, city.streets_worker))
    assert response.status_code == 200
    assert not AuthorizedRequester.objects.filter(person=city.streets_worker).exists()
    assert any("does not work for Police Department" in message for message in messages_of(response, levels=False))
    assert response.context["add_form"].errors["person"]


def test_an_end_date_before_the_start_is_refused(city, client):
    yesterday = timezone.localdate() - timezone.timedelta(days=1)
    client.force_login(city.itsa)
    response = client.post(URL, _form(city.police, city.officer, end_date=yesterday.isoformat()))
    assert response.status_code == 200
    assert not _entries(city, city.officer).exists()
    assert response.context["add_form"].errors["end_date"]


def test_a_form_without_a_person_is_shown_again_with_the_error(city, client):
    client.force_login(city.itsa)
    response = client.post(URL, {"department": city.police.pk, "start_date": timezone.localdate().isoformat()})
    assert response.status_code == 200
    assert response.context["add_form"].errors["person"]
    assert 'aria-describedby="id_person_helptext id_person_error"' in response.content.decode()


def test_anonymous_visitors_are_sent_to_sign_in_and_nothing_is_added(city, client):
    response = client.post(URL, _form(city.police, city.officer))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert not _entries(city, city.officer).exists()


def test_the_form_needs_the_csrf_token(city):
    from conftest import signed_in_client

    client = signed_in_client(enforce_csrf_checks=True)
    client.force_login(city.itsa)
    assert client.post(URL, _form(city.police, city.officer)).status_code == 403
    assert not _entries(city, city.officer).exists()
