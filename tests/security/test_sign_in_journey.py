"""Signing in step by step with a plain client: the password, then the authenticator's code, set up
at the first sign-in for the roles that require it (S3.10)."""

from base64 import b32encode

import pytest
from conftest import PASSWORD
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.models import AuditEvent
from security import services
from security_helpers import (
    SETUP, VERIFY, a_minute_later, code_for_key, code_now, enrol, pending_key, recovery_codes_in, redirect_target,
    sign_in, sign_out, wrong_code,
)

HOME = reverse("home")
PAGES = [reverse("home"), reverse("requests:list"), reverse("admin:index")]


@pytest.fixture
def visitor():
    return Client()


def _enrolled(visitor, person) -> str:
    """The person signs in and sets up an authenticator; returns its key."""
    sign_in(visitor, person.email)
    key, _ = enrol(visitor)
    return key


def test_the_password_step_accepts_the_e_mail_address_in_any_case(city, visitor):
    response = sign_in(visitor, city.head.email.upper())

    assert response.status_code == 302
    assert visitor.session["_auth_user_id"] == str(city.head.pk)


@pytest.mark.parametrize("page", PAGES)
def test_a_head_without_an_authenticator_is_sent_to_set_one_up_from_every_page(city, visitor, page):
    """S3.10: the password alone does not open the portal to a department head."""
    sign_in(visitor, city.head.email)

    response = visitor.get(page)

    assert redirect_target(response) == SETUP
    assert response.url == f"{SETUP}?next={page.replace('/', '%2F')}"


def test_the_set_up_page_shows_a_qr_code_and_the_key_and_writes_nothing(city, visitor):
    sign_in(visitor, city.head.email)
    devices_before = (TOTPDevice.objects.count(), StaticDevice.objects.count())

    response = visitor.get(SETUP)

    assert response.status_code == 200
    page = response.content.decode()
    assert "<svg" in page and "QR code for your authenticator app" in page
    device = TOTPDevice(key=pending_key(visitor))
    secret = b32encode(device.bin_key).decode()
    assert " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)) in page
    assert (TOTPDevice.objects.count(), StaticDevice.objects.count()) == devices_before
    # Looking again shows the same key: the app the person is setting up keeps working.
    assert visitor.get(SETUP).status_code == 200 and TOTPDevice(key=pending_key(visitor)).key == device.key


def test_a_wrong_code_at_set_up_is_refused_and_no_authenticator_is_saved(city, visitor):
    sign_in(visitor, city.head.email)
    visitor.get(SETUP)

    response = visitor.post(SETUP, {"code": wrong_code(pending_key(visitor))})

    assert response.status_code == 200
    assert "That code does not match" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=city.head).exists()
    assert not StaticDevice.objects.filter(user=city.head).exists()
    assert redirect_target(visitor.get(HOME)) == SETUP


def test_the_right_code_at_set_up_confirms_the_authenticator_and_shows_ten_recovery_codes(city, visitor):
    """S3.10"""
    sign_in(visitor, city.head.email)
    visitor.get(SETUP)
    key = pending_key(visitor)

    response = visitor.post(SETUP, {"code": code_for_key(key)})

    assert response.status_code == 200
    codes = recovery_codes_in(response)
    assert len(codes) == services.RECOVERY_CODE_COUNT == 10 and len(set(codes)) == 10
    device = TOTPDevice.objects.get(user=city.head)
    assert device.confirmed and device.key == key
    assert sorted(StaticToken.objects.filter(device__user=city.head).values_list("token", flat=True)) == sorted(codes)
    assert services.PENDING_KEY not in visitor.session
    assert visitor.get(HOME).status_code == 200
    assert AuditEvent.objects.filter(action="second_factor.enrol", actor=city.head, outcome="success").exists()


def test_at_the_next_sign_in_every_page_asks_for_the_code(city, visitor):
    """S3.10"""
    _enrolled(visitor, city.head)
    sign_out(visitor)

    assert sign_in(visitor, city.head.email).status_code == 302
    for page in PAGES:
        response = visitor.get(page)
        assert redirect_target(response) == VERIFY
        assert response.url == f"{VERIFY}?next={page.replace('/', '%2F')}"
    assert visitor.get(VERIFY).status_code == 200


def test_a_wrong_code_at_sign_in_is_refused_and_the_right_one_lets_the_person_in(city, visitor):
    """S3.10"""
    key = _enrolled(visitor, city.head)
    sign_out(visitor)
    sign_in(visitor, city.head.email)

    response = visitor.post(VERIFY, {"code": wrong_code(key)})

    assert response.status_code == 200
    assert "That code is not right." in response.content.decode()
    assert redirect_target(visitor.get(HOME)) == VERIFY

    a_minute_later(city.head)
    response = visitor.post(VERIFY, {"code": code_now(city.head), "next": reverse("requests:list")})

    assert response.status_code == 302 and response.url == reverse("requests:list")
    assert visitor.get(HOME).status_code == 200


def test_a_code_sent_to_verify_with_a_foreign_next_goes_home_instead(city, visitor):
    _enrolled(visitor, city.head)
    sign_out(visitor)
    sign_in(visitor, city.head.email)
    a_minute_later(city.head)

    response = visitor.post(VERIFY, {"code": code_now(city.head), "next": "https://evil.example/"})

    assert response.status_code == 302 and response.url == HOME


def test_a_recovery_code_signs_in_once_and_never_twice(city, visitor):
    """S3.10"""
    sign_in(visitor, city.head.email)
    _, codes = enrol(visitor)
    sign_out(visitor)
    sign_in(visitor, city.head.email)

    response = visitor.post(VERIFY, {"code": codes[3].upper()})

    assert response.status_code == 302
    assert visitor.get(HOME).status_code == 200
    assert not StaticToken.objects.filter(token=codes[3]).exists()
    assert services.recovery_codes_left(city.head) == 9

    sign_out(visitor)
    sign_in(visitor, city.head.email)
    a_minute_later(city.head)
    response = visitor.post(VERIFY, {"code": codes[3]})

    assert response.status_code == 200
    assert "That code is not right." in response.content.decode()
    assert redirect_target(visitor.get(HOME)) == VERIFY


def test_the_same_authenticator_code_cannot_be_used_twice(city, visitor):
    """S3.10: a code seen over someone's shoulder is already spent (django-otp remembers the last step)."""
    _enrolled(visitor, city.head)
    sign_out(visitor)
    a_minute_later(city.head)
    code = code_now(city.head)
    sign_in(visitor, city.head.email)
    assert visitor.post(VERIFY, {"code": code}).status_code == 302

    other = Client()
    sign_in(other, city.head.email)
    response = other.post(VERIFY, {"code": code})

    assert response.status_code == 200
    assert redirect_target(other.get(HOME)) == VERIFY


@pytest.fixture
def slow_retries(settings):
    """A minute's wait after one wrong code, so that no test depends on how fast it runs."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    settings.OTP_STATIC_THROTTLE_FACTOR = 60


def test_after_a_wrong_code_even_the_right_one_is_refused_for_a_while(city, visitor, slow_retries):
    """S3.10: guessing codes is slowed down (django-otp throttling)."""
    key = _enrolled(visitor, city.head)
    sign_out(visitor)
    sign_in(visitor, city.head.email)
    a_minute_later(city.head)

    assert visitor.post(VERIFY, {"code": wrong_code(key)}).status_code == 200
    assert TOTPDevice.objects.get(user=city.head).verify_is_allowed()[0] is False
    response = visitor.post(VERIFY, {"code": code_now(city.head)})

    assert response.status_code == 200
    assert redirect_target(visitor.get(HOME)) == VERIFY

    a_minute_later(city.head)
    assert visitor.post(VERIFY, {"code": code_now(city.head)}).status_code == 302
    assert visitor.get(HOME).status_code == 200


def test_after_a_wrong_code_the_page_says_how_long_to_wait(city, visitor, slow_retries):
    """S3.10"""
    key = _enrolled(visitor, city.head)
    sign_out(visitor)
    sign_in(visitor, city.head.email)
    a_minute_later(city.head)

    wrong = visitor.post(VERIFY, {"code": wrong_code(key)}).content.decode()
    refused = visitor.post(VERIFY, {"code": code_now(city.head)}).content.decode()

    for page in (wrong, refused):
        assert "Wait " in page and " seconds before trying again." in page


def test_someone_with_an_authenticator_must_pass_it_before_setting_up_another(city, visitor):
    """S3.10: a stolen password alone cannot enrol a new authenticator."""
    _enrolled(visitor, city.head)
    original = TOTPDevice.objects.get(user=city.head).key
    sign_out(visitor)
    thief = Client()
    sign_in(thief, city.head.email)

    assert redirect_target(thief.get(SETUP)) == VERIFY
    response = thief.post(SETUP, {"code": "123456"})

    assert redirect_target(response) == VERIFY
    assert services.PENDING_KEY not in thief.session
    assert list(TOTPDevice.objects.filter(user=city.head).values_list("key", flat=True)) == [original]


def test_an_officer_without_an_authenticator_signs_in_with_the_password_alone(city, visitor):
    sign_in(visitor, city.officer.email)

    assert visitor.get(HOME).status_code == 200
    assert visitor.get(reverse("requests:list")).status_code == 200


def test_an_officer_may_set_up_an_authenticator_and_then_needs_the_code(city, visitor):
    sign_in(visitor, city.officer.email)
    page = visitor.get(SETUP).content.decode()
    assert "Your role in the portal requires a second factor" not in page

    key, codes = enrol(visitor)

    assert len(codes) == 10 and TOTPDevice.objects.get(user=city.officer, confirmed=True).key == key
    assert visitor.get(HOME).status_code == 200
    sign_out(visitor)
    sign_in(visitor, city.officer.email)
    assert redirect_target(visitor.get(HOME)) == VERIFY

    a_minute_later(city.officer)
    assert visitor.post(VERIFY, {"code": code_now(city.officer)}).status_code == 302
    assert visitor.get(HOME).status_code == 200


def test_the_verify_page_sends_someone_without_an_authenticator_to_set_one_up(city, visitor):
    sign_in(visitor, city.head.email)

    assert redirect_target(visitor.get(VERIFY)) == SETUP


def test_a_verified_person_is_sent_on_from_the_verify_page(city, visitor):
    _enrolled(visitor, city.head)

    response = visitor.get(f"{VERIFY}?next={reverse('requests:list')}")

    assert response.status_code == 302 and response.url == reverse("requests:list")


def test_signing_out_is_open_before_the_second_factor(city, visitor):
    sign_in(visitor, city.head.email)

    response = visitor.post(reverse("logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in visitor.session


def test_htmx_requests_before_the_second_factor_get_a_response_htmx_can_read(city, visitor):
    sign_in(visitor, city.head.email)

    response = visitor.get(reverse("requests:list"), headers={"HX-Request": "true"})

    assert 200 <= response.status_code < 300
    assert response["HX-Redirect"].startswith(SETUP)


def test_a_wrong_password_does_not_reach_the_second_step(city, visitor):
    response = sign_in(visitor, city.head.email, "not the password")

    assert response.status_code == 200
    assert "_auth_user_id" not in visitor.session
    assert PASSWORD not in response.content.decode()


def test_the_public_transparency_page_stays_open_halfway_through_signing_in(city, visitor):
    """S2.6: the public pages are for everyone, whatever step of signing in a visitor is at."""
    sign_in(visitor, city.head.email)  # the password only: the authenticator is still to be set up

    assert visitor.get(reverse("transparency:index")).status_code == 200
    assert redirect_target(visitor.get(HOME)) == SETUP
