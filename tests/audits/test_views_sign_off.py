"""The head signs the validation off with their name and the time, after entering their password
again (S3.4f); it is complete once ITSA has processed the removals (S3.5a)."""

import pytest
from conftest import PASSWORD, messages_of, open_validation
from django.urls import reverse

from audits.models import Validation
from audits.services import validation_item_decide, validation_keep_all
from portal.models import AuditEvent
from access_requests.models import AccessRequest


def _decided(city):
    validation = open_validation(city)
    validation_item_decide(item=validation.items.get(grant__person=city.officer), decision="revoke",
                           reason="Left the unit.", by=city.head)
    validation_keep_all(validation=validation, by=city.head, confirmed=True)
    return validation


def _sign_off(client, validation, password=PASSWORD):
    return client.post(reverse("audits:sign_off", args=[validation.pk]), {"password": password})


def test_the_head_signs_off_with_their_password_and_the_removal_stays_with_itsa(city, client):
    """S3.4f S3.5a"""
    validation = _decided(city)
    client.force_login(city.head)

    response = _sign_off(client, validation)

    assert response.status_code == 302 and response.url == validation.get_absolute_url()
    validation.refresh_from_db()
    assert validation.status == Validation.Status.SIGNED_OFF
    assert validation.signed_off_by == city.head and validation.signed_off_at is not None
    assert city.head.full_name in validation.sign_off_statement
    assert AccessRequest.objects.filter(person=city.officer, action="remove", status="with_itsa").exists()
    assert messages_of(response)[-1][0] == "success"


def test_a_validation_with_nothing_for_itsa_is_complete_when_signed_off(city, client):
    validation = open_validation(city)
    validation_keep_all(validation=validation, by=city.head, confirmed=True)
    client.force_login(city.head)

    _sign_off(client, validation)

    validation.refresh_from_db()
    assert validation.status == Validation.Status.COMPLETE and validation.completed_at is not None


def test_sign_off_refuses_get(city, client):
    validation = _decided(city)
    client.force_login(city.head)

    assert client.get(reverse("audits:sign_off", args=[validation.pk])).status_code == 405
    validation.refresh_from_db()
    assert validation.status == Validation.Status.OPEN


def test_the_head_of_another_department_gets_404_and_nothing_is_signed(city, client):
    validation = _decided(city)
    client.force_login(city.outsider)

    assert _sign_off(client, validation).status_code == 404
    validation.refresh_from_db()
    assert validation.status == Validation.Status.OPEN and validation.signed_off_by is None
    assert AuditEvent.objects.filter(actor=city.outsider, action="validation.view", outcome="denied").exists()


def test_a_second_sign_off_has_no_second_effect(city, client):
    validation = _decided(city)
    client.force_login(city.head)
    _sign_off(client, validation)
    signed = Validation.objects.get(pk=validation.pk)

    response = _sign_off(client, validation)

    validation.refresh_from_db()
    assert (validation.signed_off_at, validation.sign_off_statement) == (signed.signed_off_at,
                                                                         signed.sign_off_statement)
    assert AuditEvent.objects.filter(action="validation.sign_off", outcome="success").count() == 1
    assert messages_of(response)[-1][0] == "info"


def test_a_wrong_password_is_refused_and_nothing_is_signed(city, client):
    """S3.4f: the password is entered again, so the sign-off cannot later be denied."""
    validation = _decided(city)
    client.force_login(city.head)

    response = _sign_off(client, validation, password="not my password")

    validation.refresh_from_db()
    assert validation.status == Validation.Status.OPEN
    assert (validation.signed_off_by, validation.signed_off_at, validation.sign_off_statement) == (None, None, "")
    level, text = messages_of(response)[-1]
    assert level == "error" and "password" in text
    assert AuditEvent.objects.filter(actor=city.head, action="validation.sign_off", outcome="refused").exists()


def test_an_empty_password_is_refused_and_nothing_is_signed(city, client):
    validation = _decided(city)
    client.force_login(city.head)

    response = _sign_off(client, validation, password="")

    validation.refresh_from_db()
    assert validation.status == Validation.Status.OPEN
    assert messages_of(response)[-1] == ("error", "Enter your password to sign.")


def test_sign_off_with_undecided_items_is_refused_with_a_message(city, client):
    """S3.4f: the head validates all of them."""
    validation = open_validation(city)
    client.force_login(city.head)

    response = _sign_off(client, validation)

    validation.refresh_from_db()
    assert validation.status == Validation.Status.OPEN
    level, text = messages_of(response)[-1]
    assert level == "error" and "2 items are not decided yet" in text


@pytest.mark.parametrize("who", ["requester", "itsa", "designee"])
def test_only_the_head_signs_off(city, client, who):
    validation = _decided(city)
    client.force_login(getattr(city, who))

    response = _sign_off(client, validation)

    validation.refresh_from_db()
    assert validation.status == Validation.Status.OPEN
    level, text = messages_of(response)[-1]
    assert level == "error" and "Only the head" in text
