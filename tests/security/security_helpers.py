"""Signing in step by step with a plain test client, and the codes an authenticator app would show.

Time travel without a clock library: an authenticator "a minute later" is the same device whose
time origin (t0) lies two steps earlier, so its current code is a new one; the throttling of wrong
codes is moved back the same way."""

import re
from datetime import timedelta

from conftest import PASSWORD
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from security import services

LOGIN = reverse("login")
VERIFY = reverse("security:verify")
SETUP = reverse("security:setup")
LOGOUT = reverse("logout")


def sign_in(client: Client, email: str, password: str = PASSWORD, **extra):
    """The password step of signing in."""
    return client.post(LOGIN, {"username": email, "password": password}, **extra)


def sign_out(client: Client):
    return client.post(LOGOUT)


def code_for_key(key: str, *, drift: int = 0) -> str:
    """The code an app set up with this (hex) key shows now."""
    return f"{TOTP(bytes.fromhex(key), drift=drift).token():06d}"


def code_now(user) -> str:
    """The code the person's authenticator app shows now."""
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def wrong_code(key: str) -> str:
    """A 6-digit code the authenticator with this key accepts at no step near now."""
    near = {code_for_key(key, drift=drift) for drift in range(-3, 4)}
    return next(f"{n:06d}" for n in range(123456, 10**6) if f"{n:06d}" not in near)


def a_minute_later(user) -> None:
    """As if two time steps had passed: the authenticator shows a new code and the wait after
    wrong codes is over."""
    TOTPDevice.objects.filter(user=user).update(t0=F("t0") - 60)
    earlier = timezone.now() - timedelta(hours=1)
    for model in (TOTPDevice, StaticDevice):
        model.objects.filter(user=user, throttling_failure_timestamp__isnull=False).update(
            throttling_failure_timestamp=earlier)


def pending_key(client: Client) -> str:
    return client.session[services.PENDING_KEY]


def enrol(client: Client) -> tuple[str, list[str]]:
    """Set up an authenticator on the set-up page; returns its key and the recovery codes shown."""
    assert client.get(SETUP).status_code == 200
    key = pending_key(client)
    response = client.post(SETUP, {"code": code_for_key(key)})
    assert response.status_code == 200, response.content
    return key, recovery_codes_in(response)


def recovery_codes_in(response) -> list[str]:
    return re.findall(r"<li><code>([^<]+)</code></li>", response.content.decode())


def redirect_target(response) -> str:
    """The path a redirect goes to, without its query string."""
    assert response.status_code == 302, response.status_code
    return response.url.split("?", 1)[0]
