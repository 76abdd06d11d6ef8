"""Five failed sign-ins of one account from one address lock it from that address, and failures
from every address together lock it everywhere, until another ITSA administrator releases the lock
(S3.10)."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from conftest import PASSWORD, messages_of, signed_in_client
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from portal.models import AuditEvent
from security.forms import LOCKED_MESSAGE
from security.models import AccountLock, UserSession
from security_helpers import sign_in

WRONG = "not the password"
ELSEWHERE = "198.51.100.20"


def _fail(email, times, address="127.0.0.1"):
    """Failed sign-ins, each from a fresh browser."""
    for attempt in range(times):
        sign_in(Client(), email, WRONG, REMOTE_ADDR=address)


def _fail_from_many_addresses(email, times):
    """Failed sign-ins spread over addresses, four from each: never five from one."""
    for attempt in range(times):
        sign_in(Client(), email, WRONG, REMOTE_ADDR=f"203.0.113.{attempt // 4 + 1}")


def _signed_in_from(person, address):
    browser = signed_in_client()
    browser.force_login(person)
    UserSession.objects.filter(session_key=browser.session.session_key).update(ip_address=address)
    assert browser.get(reverse("home")).status_code == 200
    return browser


def _is_sent_to_sign_in(browser):
    response = browser.get(reverse("home"))
    return response.status_code == 302 and response.url.startswith(reverse("login"))


def _cases(email):
    """The same address typed five different ways."""
    return [email, email.upper(), email.title(), f"  {email}  ", email.capitalize()]


def _release_url(lock):
    return reverse("security:release", args=[lock.pk])


@pytest.fixture
def locked_head(city):
    for typed in _cases(city.head.email):
        sign_in(Client(), typed, WRONG)
    return AccountLock.objects.get(user=city.head, released_at__isnull=True)


def test_five_failed_sign_ins_in_any_case_of_the_e_mail_lock_the_account(city):
    """S3.10: five failures in 15 minutes lock the account."""
    *first_four, fifth = _cases(city.head.email)
    assert [sign_in(Client(), typed, WRONG).status_code for typed in first_four] == [200] * 4
    assert not AccountLock.objects.exists()

    response = sign_in(Client(), fifth, WRONG)

    assert response.status_code == 429
    assert "This account is locked" in response.content.decode()
    lock = AccountLock.objects.get(user=city.head)
    assert lock.is_open and (lock.scope, lock.ip_address) == (AccountLock.Scope.ADDRESS, "127.0.0.1")
    event = AuditEvent.objects.get(action="sign_in.lockout")
    assert (event.outcome, event.target, event.ip_address) == ("denied", str(city.head), "127.0.0.1")


def test_four_failed_sign_ins_do_not_lock_the_account(city):
    _fail(city.head.email, 4)

    assert not AccountLock.objects.exists()
    assert sign_in(Client(), city.head.email).status_code == 302


def test_a_locked_account_is_refused_even_with_the_right_password(city, locked_head):
    """S3.10"""
    browser = Client()
    response = sign_in(browser, city.head.email)

    assert response.status_code == 200
    assert LOCKED_MESSAGE in response.content.decode()
    assert "_auth_user_id" not in browser.session


def test_the_account_stays_locked_after_the_cool_off_time(city, locked_head, settings):
    """S3.10: the lock lasts until ITSA releases it, not 15 minutes."""
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(minutes=5))
    browser = Client()

    response = sign_in(browser, city.head.email.upper())

    assert response.status_code == 200
    assert LOCKED_MESSAGE in response.content.decode()
    assert "_auth_user_id" not in browser.session
    assert AccountLock.objects.get(pk=locked_head.pk).is_open


def test_a_lock_from_one_address_ends_the_sessions_signed_in_from_there_only(city):
    """S3.10. An attacker elsewhere must not be able to sign the person out of their own session."""
    here, elsewhere = _signed_in_from(city.head, "127.0.0.1"), _signed_in_from(city.head, ELSEWHERE)

    _fail(city.head.email, 5, address="127.0.0.1")

    assert _is_sent_to_sign_in(here)
    assert elsewhere.get(reverse("home")).status_code == 200


def test_a_lock_of_the_whole_account_ends_every_session(city, settings):
    """S3.10"""
    browser = _signed_in_from(city.head, ELSEWHERE)

    _fail_from_many_addresses(city.head.email, settings.SIGN_IN_ACCOUNT_FAILURE_LIMIT)

    assert _is_sent_to_sign_in(browser)


def test_another_itsa_administrator_releases_the_lock_and_the_person_signs_in(city, client, locked_head):
    """S3.10"""
    client.force_login(city.itsa2)
    page = client.get(reverse("security:locked")).content.decode()
    assert city.head.email in page and f"Release {city.head.full_name}" in page

    response = client.post(_release_url(locked_head))

    assert response.status_code == 302 and response.url == reverse("security:locked")
    assert messages_of(response)[-1][0] == "success"
    lock = AccountLock.objects.get(pk=locked_head.pk)
    assert not lock.is_open and lock.released_by == city.itsa2
    assert not AccessAttempt.objects.filter(username=city.head.email).exists()
    event = AuditEvent.objects.get(action="sign_in.release")
    assert (event.actor, event.outcome, event.target, event.ip_address) == (
        city.itsa2, "success", str(city.head), "127.0.0.1")
    browser = Client()
    assert sign_in(browser, city.head.email).status_code == 302
    assert browser.session["_auth_user_id"] == str(city.head.pk)


def test_a_released_account_gets_five_new_tries(city, client, locked_head):
    client.force_login(city.itsa2)
    client.post(_release_url(locked_head))

    _fail(city.head.email, 4)
    assert not AccountLock.objects.filter(user=city.head, released_at__isnull=True).exists()
    _fail(city.head.email, 1)
    assert AccountLock.objects.filter(user=city.head, released_at__isnull=True).count() == 1


def test_releasing_twice_has_no_second_effect(city, client, locked_head):
    client.force_login(city.itsa2)
    client.post(_release_url(locked_head))
    released_at = AccountLock.objects.get(pk=locked_head.pk).released_at

    response = client.post(_release_url(locked_head))

    assert response.status_code == 302
    assert AccountLock.objects.get(pk=locked_head.pk).released_at == released_at
    assert AuditEvent.objects.filter(action="sign_in.release", outcome="success").count() == 1


def test_an_itsa_administrator_cannot_release_their_own_lock(city, client):
    """S3.10: the person locked out is not the one who checks it was them."""
    _fail(city.itsa.email, 5)
    lock = AccountLock.objects.get(user=city.itsa)
    client.force_login(city.itsa)
    assert "Another administrator must release it" in client.get(reverse("security:locked")).content.decode()

    response = client.post(_release_url(lock))

    assert response.status_code == 302
    assert messages_of(response)[-1][0] == "error"
    assert AccountLock.objects.get(pk=lock.pk).is_open
    assert AuditEvent.objects.filter(action="sign_in.release", actor=city.itsa, outcome="denied").exists()


@pytest.mark.parametrize("who", ["head", "designee", "requester", "officer"])
def test_people_outside_itsa_get_404_and_the_lock_stays(city, client, locked_head, who):
    client.force_login(getattr(city, who))

    assert client.post(_release_url(locked_head)).status_code == 404
    assert client.get(reverse("security:locked")).status_code == 404
    assert AccountLock.objects.get(pk=locked_head.pk).is_open


def test_release_refuses_get(city, client, locked_head):
    client.force_login(city.itsa2)

    assert client.get(_release_url(locked_head)).status_code == 405
    assert AccountLock.objects.get(pk=locked_head.pk).is_open


def test_failures_of_different_accounts_do_not_add_up(city):
    """Failures count per account: a city hall behind one address does not lock everyone out."""
    _fail(city.head.email, 4)
    _fail(city.officer.email, 4)
    _fail("nobody@city.example", 4)

    assert not AccountLock.objects.exists()
    assert sign_in(Client(), city.head.email).status_code == 302
    assert sign_in(Client(), city.officer.email).status_code == 302


def test_a_successful_sign_in_starts_the_count_again(city):
    """AXES_RESET_ON_SUCCESS: four failures, a success, four failures lock nothing."""
    _fail(city.head.email, 4)
    assert sign_in(Client(), city.head.email).status_code == 302
    assert not AccessAttempt.objects.filter(username=city.head.email).exists()

    _fail(city.head.email.upper(), 4)

    assert not AccountLock.objects.exists()
    assert sign_in(Client(), city.head.email).status_code == 302


def test_failures_from_different_browsers_at_one_address_add_up(city):
    for n in range(5):
        sign_in(Client(), city.head.email, WRONG, REMOTE_ADDR="10.0.0.1", HTTP_USER_AGENT=f"browser {n}")

    assert AccountLock.objects.get(user=city.head).ip_address == "10.0.0.1"


def test_an_attacker_at_one_address_does_not_lock_itsa_out_from_another(city):
    """Five wrong passwords for each ITSA administrator from one address used to lock all of ITSA
    out, with nobody left to release the locks. Now they lock the administrators out of that
    address only."""
    for admin in (city.itsa, city.itsa2):
        _fail(admin.email, 5, address="192.0.2.66")

    assert set(AccountLock.objects.values_list("user", "scope", "ip_address")) == {
        (admin.pk, AccountLock.Scope.ADDRESS, "192.0.2.66") for admin in (city.itsa, city.itsa2)}
    for admin in (city.itsa, city.itsa2):
        browser = Client()
        assert sign_in(browser, admin.email, REMOTE_ADDR=ELSEWHERE).status_code == 302
        assert browser.session["_auth_user_id"] == str(admin.pk)
        attacker = Client()
        response = sign_in(attacker, admin.email, REMOTE_ADDR="192.0.2.66")
        assert LOCKED_MESSAGE in response.content.decode() and "_auth_user_id" not in attacker.session


def test_failures_of_one_account_from_many_addresses_lock_it_from_every_address(city, settings):
    """A guesser who spreads the tries over many addresses still locks the account."""
    _fail_from_many_addresses(city.head.email, settings.SIGN_IN_ACCOUNT_FAILURE_LIMIT - 1)
    assert not AccountLock.objects.exists()

    sign_in(Client(), city.head.email, WRONG, REMOTE_ADDR="203.0.113.99")

    lock = AccountLock.objects.get(user=city.head)
    assert (lock.scope, lock.ip_address) == (AccountLock.Scope.ACCOUNT, "203.0.113.99")
    event = AuditEvent.objects.get(action="sign_in.lockout")
    assert event.detail == f"{settings.SIGN_IN_ACCOUNT_FAILURE_LIMIT} failed sign-ins from every address together"
    browser = Client()
    response = sign_in(browser, city.head.email, REMOTE_ADDR=ELSEWHERE)
    assert LOCKED_MESSAGE in response.content.decode() and "_auth_user_id" not in browser.session


def test_behind_the_trusted_proxy_failures_count_per_client_not_per_proxy(city, settings):
    """Every request reaches the portal from the proxy: the client it names is the one locked out."""
    settings.PORTAL_TRUSTED_PROXIES = ["127.0.0.1"]
    for attempt in range(5):
        sign_in(Client(), city.itsa.email, WRONG, HTTP_X_FORWARDED_FOR="192.0.2.66")

    assert AccountLock.objects.get(user=city.itsa).ip_address == "192.0.2.66"
    browser = Client()
    assert sign_in(browser, city.itsa.email, HTTP_X_FORWARDED_FOR=ELSEWHERE).status_code == 302
    assert browser.session["_auth_user_id"] == str(city.itsa.pk)


def test_another_itsa_administrator_releases_a_lock_of_the_whole_account(city, client, settings):
    """S3.10"""
    _fail_from_many_addresses(city.head.email, settings.SIGN_IN_ACCOUNT_FAILURE_LIMIT)
    lock = AccountLock.objects.get(user=city.head, scope=AccountLock.Scope.ACCOUNT)
    client.force_login(city.itsa2)
    assert "From every address" in client.get(reverse("security:locked")).content.decode()

    client.post(_release_url(lock))

    assert not AccountLock.objects.get(pk=lock.pk).is_open
    assert not AccessAttempt.objects.filter(username=city.head.email).exists()
    assert AuditEvent.objects.get(action="sign_in.release").detail == "lock from every address"
    assert sign_in(Client(), city.head.email, REMOTE_ADDR=ELSEWHERE).status_code == 302


def test_releasing_the_lock_of_one_address_keeps_the_failures_from_others(city, client, locked_head):
    _fail(city.head.email, 3, address=ELSEWHERE)
    client.force_login(city.itsa2)
    assert "From 127.0.0.1 only" in client.get(reverse("security:locked")).content.decode()

    client.post(_release_url(locked_head))

    assert list(AccessAttempt.objects.values_list("ip_address", "failures_since_start")) == [(ELSEWHERE, 3)]


def test_five_failures_for_an_unknown_address_lock_nobody_and_are_recorded(city):
    _fail("Nobody@City.example", 5)

    assert not AccountLock.objects.exists()
    event = AuditEvent.objects.get(action="sign_in.lockout")
    assert (event.outcome, event.target, event.actor) == ("denied", "nobody@city.example", None)


def test_failures_after_the_lock_add_no_second_lock(city, locked_head):
    _fail(city.head.email, 3)

    assert AccountLock.objects.filter(user=city.head).count() == 1
    assert AuditEvent.objects.filter(action="sign_in.lockout").count() == 1


def test_a_locked_account_cannot_sign_in_through_the_admin_sign_in_page_either(city, settings):
    """S3.10: the lock lasts until ITSA releases it, whichever sign-in page is used."""
    User.objects.filter(pk=city.itsa.pk).update(is_staff=True, is_superuser=True)
    _fail(city.itsa.email, 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(minutes=5))
    browser = Client()

    browser.post(reverse("admin:login"), {"username": city.itsa.email, "password": PASSWORD, "next": "/admin/"})

    assert "_auth_user_id" not in browser.session
    assert AccountLock.objects.get(user=city.itsa).is_open
