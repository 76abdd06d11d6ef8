"""Signing in with a second factor, in Chromium: enrolment, the code at the next sign-in, recovery
codes, and the lockout after repeated failures. Each page scanned with axe-core."""

import re

import pytest
from conftest import PASSWORD
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from browser_helpers import assert_accessible, authenticator_for, current_code, sign_in
from security.models import AccountLock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _password_step(page, email, password):
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def _code_from_key(text: str) -> str:
    from base64 import b32decode

    key = b32decode(re.sub(r"\s", "", text))
    return f"{TOTP(key).token():06d}"


def test_a_head_sets_up_an_authenticator_at_first_sign_in_and_uses_it_at_the_next(page, city):
    """S3.10: the roles that decide access sign in with a second factor."""
    _password_step(page, city.head.email, PASSWORD)
    # The password alone opens nothing: the head is sent to set up an authenticator.
    expect(page).to_have_url(re.compile(r"/accounts/security/authenticator/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up your authenticator app")
    expect(page.locator(".qr-code svg")).to_be_visible()
    assert_accessible(page, "authenticator set-up")

    page.get_by_label("Code from your app").fill("000000")
    page.get_by_role("button", name="Confirm and get recovery codes").click()
    expect(page.locator(".usa-error-message")).to_contain_text("does not match")
    assert not TOTPDevice.objects.filter(user=city.head).exists()

    page.get_by_label("Code from your app").fill(_code_from_key(page.locator(".setup-key").inner_text()))
    page.get_by_role("button", name="Confirm and get recovery codes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    assert_accessible(page, "recovery codes")
    page.get_by_role("link", name="I have saved them, continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")

    # Next sign-in: the code page, then the dashboard.
    _password_step(page, city.head.email, PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/verify/"))
    assert_accessible(page, "the code page")
    page.get_by_label("Code").fill("123456" if current_code(authenticator_for(city.head)) != "123456" else "654321")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".usa-error-message")).to_contain_text("not right")
    page.get_by_label("Code").fill(codes[0])  # a recovery code works once
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")

    _password_step(page, city.head.email, PASSWORD)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".usa-error-message")).to_contain_text("not right")


def test_itsa_signs_in_with_the_code_and_reaches_the_queue(page, city):
    sign_in(page, city.itsa, PASSWORD)
    page.goto("/requests/queue/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert "/accounts/verify/" not in page.url


def test_five_wrong_passwords_lock_the_account_until_itsa_releases_it(page, city):
    """S3.10: repeated failures lock the account; ITSA releases it."""
    for _ in range(5):
        _password_step(page, city.officer.email, "not the password")
    assert AccountLock.objects.filter(user=city.officer, released_at__isnull=True).exists()
    _password_step(page, city.officer.email, PASSWORD)
    expect(page.get_by_text(re.compile("locked"))).to_be_visible()
    assert_accessible(page, "the locked sign-in")

    sign_in(page, city.itsa, PASSWORD)
    page.goto("/accounts/locked/")
    assert_accessible(page, "locked accounts")
    page.get_by_role("button", name=f"Release {city.officer.full_name}").click()
    expect(page.get_by_text(f"{city.officer} can sign in again.")).to_be_visible()

    _password_step(page, city.officer.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
