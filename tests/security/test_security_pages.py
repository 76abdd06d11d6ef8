"""The sign-in security page: the second factor's status, recovery codes, turning the second factor
off, and where the person is signed in (S3.10)."""

import time
from datetime import timedelta


from conftest import PASSWORD, messages_of, pass_second_factor
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.models import AuditEvent
from security import services
from security_helpers import (
    VERIFY, a_minute_later, code_for_key, pending_key, recovery_codes_in, sign_in,
)

OVERVIEW = reverse("security:overview")
RECOVERY_CODES = reverse("security:recovery_codes")
REMOVE = reverse("security:remove")


def _page(client):
    response = client.get(OVERVIEW)
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_shows_a_head_their_authenticator_codes_and_sessions(city, client):
    """S3.10"""
    client.force_login(city.head)
    services.recovery_codes_issue(user=city.head, by=city.head)
    sign_in(Client(HTTP_USER_AGENT="Desk browser"), city.head.email)

    page = _page(client)

    assert "Your authenticator app is set up" in page
    assert "<strong>10</strong> unused recovery codes" in page
    assert "Your role requires a second factor." in page
    assert "Turn off the second factor" not in page
    assert page.count("<tr><td>") == 2
    assert "this one" in page and "Desk browser" in page


def test_the_page_lists_only_sessions_that_are_still_open(city, client):
    client.force_login(city.officer)
    desk = Client()
    sign_in(desk, city.officer.email)
    Session.objects.filter(session_key=desk.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1))

    page = _page(client)

    assert page.count("<tr><td>") == 1


def test_the_page_offers_an_officer_without_an_authenticator_to_set_one_up(city, client):
    client.force_login(city.officer)

    page = _page(client)

    assert "You sign in with your password only." in page
    assert f'href="{reverse("security:setup")}"' in page
    assert "Your role requires a second factor." not in page


def test_the_page_is_only_for_people_signed_in(db):
    response = Client().get(OVERVIEW)

    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_new_recovery_codes_replace_the_old_ones(city, client):
    """S3.10"""
    client.force_login(city.head)
    old = recovery_codes_in(client.post(RECOVERY_CODES))

    response = client.post(RECOVERY_CODES)

    assert response.status_code == 200
    new = recovery_codes_in(response)
    assert len(old) == len(new) == 10 and not set(old) & set(new)
    assert "your earlier codes no longer work" in response.content.decode()
    assert set(StaticToken.objects.filter(device__user=city.head).values_list("token", flat=True)) == set(new)

    browser = Client()
    sign_in(browser, city.head.email)
    assert browser.post(VERIFY, {"code": old[0]}).status_code == 200
    a_minute_later(city.head)
    assert browser.post(VERIFY, {"code": new[0]}).status_code == 302


def test_recovery_codes_need_an_authenticator_first(city, client):
    client.force_login(city.officer)

    response = client.post(RECOVERY_CODES)

    assert response.status_code == 302 and response.url == OVERVIEW
    assert messages_of(response)[-1][0] == "error"
    assert not StaticDevice.objects.filter(user=city.officer).exists()


def test_recovery_codes_refuse_get(city, client):
    client.force_login(city.head)

    assert client.get(RECOVERY_CODES).status_code == 405
    assert not StaticDevice.objects.filter(user=city.head).exists()


def test_a_head_cannot_turn_the_second_factor_off(city, client):
    """S3.10: required for ITSA, the Mayor's designee and department heads."""
    client.force_login(city.head)

    response = client.post(REMOVE)

    assert response.status_code == 302 and response.url == OVERVIEW
    level, text = messages_of(response)[-1]
    assert level == "error" and "Your role requires a second factor" in text
    assert TOTPDevice.objects.filter(user=city.head, confirmed=True).exists()
    assert AuditEvent.objects.filter(action="second_factor.remove", actor=city.head, outcome="refused").exists()


def test_an_officer_can_turn_the_second_factor_off(city, client):
    client.force_login(city.officer)
    pass_second_factor(client, city.officer)
    services.recovery_codes_issue(user=city.officer, by=city.officer)
    assert "Turn off the second factor" in _page(client)

    response = client.post(REMOVE)

    assert response.status_code == 302 and response.url == OVERVIEW
    assert messages_of(response)[-1] == ("success", "Your second factor is turned off.")
    assert not TOTPDevice.objects.filter(user=city.officer).exists()
    assert not StaticDevice.objects.filter(user=city.officer).exists()
    assert AuditEvent.objects.filter(action="second_factor.remove", actor=city.officer, outcome="success").exists()

    browser = Client()
    sign_in(browser, city.officer.email)
    assert browser.get(reverse("home")).status_code == 200


def test_turning_off_refuses_get(city, client):
    client.force_login(city.officer)
    pass_second_factor(client, city.officer)

    assert client.get(REMOVE).status_code == 405
    assert TOTPDevice.objects.filter(user=city.officer).exists()


def test_a_head_replaces_the_authenticator_after_confirming_the_password(city, client):
    """S3.10: replacing an authenticator needs the current one and the password."""
    client.force_login(city.head)
    old_key = TOTPDevice.objects.get(user=city.head).key
    session = client.session
    session[services.PASSWORD_AT] = time.time() - 3600
    session.save()

    response = client.get(reverse("security:setup"))
    assert response.status_code == 302 and response.url.startswith(reverse("security:confirm_password"))

    client.post(reverse("security:confirm_password"), {"password": PASSWORD})
    assert client.get(reverse("security:setup")).status_code == 200
    key = pending_key(client)
    response = client.post(reverse("security:setup"), {"code": code_for_key(key)})

    assert response.status_code == 200 and len(recovery_codes_in(response)) == 10
    assert list(TOTPDevice.objects.filter(user=city.head).values_list("key", flat=True)) == [key]
    assert key != old_key
