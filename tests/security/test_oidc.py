"""Single sign-on through the city's OpenID Connect provider.

Only the provider's HTTP is replaced (it would leave the machine): the portal's pages, session,
token signature check (RS256 against the provider's published keys), database and audit trail are
the real ones. Settings are read in a fresh process where the environment switches the option on.
"""

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from conftest import PASSWORD
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.messages import get_messages
from django.urls import include, path, reverse
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from accounts.models import User
from portal.models import AuditEvent
from security.models import AccountLock
from security.oidc import CityOIDCBackend, CityOIDCCallbackView

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "surveillance-portal"
PROVIDER = "https://login.city.example"
OIDC_ENV = {
    "OIDC_RP_CLIENT_ID": CLIENT_ID,
    "OIDC_RP_CLIENT_SECRET": "client-secret-from-the-provider",
    "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{PROVIDER}/authorize",
    "OIDC_OP_TOKEN_ENDPOINT": f"{PROVIDER}/token",
    "OIDC_OP_USER_ENDPOINT": f"{PROVIDER}/userinfo",
    "OIDC_OP_JWKS_ENDPOINT": f"{PROVIDER}/keys",
}
SIGNING_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)

pytestmark = pytest.mark.urls(__name__)

# The portal's URLs with the provider's two pages, as settings.OIDC_ENABLED adds them (the real
# wiring is checked in a fresh process below).
urlpatterns = [
    path("oidc/authenticate/", OIDCAuthenticationRequestView.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", CityOIDCCallbackView.as_view(), name="oidc_authentication_callback"),
    path("", include("pages.urls")),
]


class Reply:
    def __init__(self, body, status=200):
        self.body, self.status_code, self.headers, self.url = body, status, {"content-type": "application/json"}, ""
        self.text = json.dumps(body)

    def json(self):
        return self.body

    def raise_for_status(self):
        assert self.status_code == 200


class CityProvider:
    """The city's identity provider: its token, user-info and key endpoints."""

    def __init__(self):
        self.claims = {}
        self.audience = CLIENT_ID
        self.nonce = None
        self.token_requests = []

    def post(self, url, data=None, **kwargs):
        assert url == OIDC_ENV["OIDC_OP_TOKEN_ENDPOINT"] and kwargs.get("timeout")
        self.token_requests.append(data)
        now = int(time.time())
        id_token = jwt.encode(
            {"iss": PROVIDER, "sub": "city-0042", "aud": self.audience, "nonce": self.nonce, "iat": now, "exp": now + 300},
            SIGNING_KEY, algorithm="RS256", headers={"kid": "city-key-1"},
        )
        return Reply({"access_token": "access-0042", "token_type": "Bearer", "id_token": id_token})

    def get(self, url, headers=None, **kwargs):
        if url == OIDC_ENV["OIDC_OP_JWKS_ENDPOINT"]:
            key = jwt.algorithms.RSAAlgorithm.to_jwk(SIGNING_KEY.public_key(), as_dict=True)
            return Reply({"keys": [{**key, "kid": "city-key-1", "alg": "RS256", "use": "sig"}]})
        assert url == OIDC_ENV["OIDC_OP_USER_ENDPOINT"] and headers["Authorization"] == "Bearer access-0042"
        return Reply(self.claims)


@pytest.fixture
def provider(settings, monkeypatch):
    """Single sign-on switched on as settings.py does it, against the city's provider."""
    settings.OIDC_ENABLED = True
    backends = list(settings.AUTHENTICATION_BACKENDS)
    backends.insert(backends.index("django.contrib.auth.backends.ModelBackend"), "security.oidc.CityOIDCBackend")
    settings.AUTHENTICATION_BACKENDS = backends
    for name, value in OIDC_ENV.items():
        setattr(settings, name, value)
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    settings.OIDC_CREATE_USER = False
    settings.OIDC_USE_PKCE = True
    settings.OIDC_TIMEOUT = 10
    city_provider = CityProvider()
    monkeypatch.setattr("mozilla_django_oidc.auth.requests", SimpleNamespace(post=city_provider.post, get=city_provider.get))
    return city_provider


def _sign_in_through_the_provider(client, provider, claims, next_url="/"):
    start = client.get("/oidc/authenticate/", {"next": next_url})
    assert start.status_code == 302 and start.headers["Location"].startswith(OIDC_ENV["OIDC_OP_AUTHORIZATION_ENDPOINT"])
    asked = parse_qs(urlsplit(start.headers["Location"]).query)
    provider.nonce, provider.claims = asked["nonce"][0], claims
    return client.get("/oidc/callback/", {"code": "code-from-the-provider", "state": asked["state"][0]}), asked


def _signed_in_as(client):
    return client.session.get("_auth_user_id")


def _refusal(email):
    return AuditEvent.objects.filter(action="sign_in", outcome=AuditEvent.Outcome.DENIED, target=email,
                                     detail__startswith="city account")


def test_a_person_signs_in_with_the_city_account_matched_by_verified_e_mail_in_any_case(city, client, provider):
    """S3.10: single sign-on as an option; the provider's token is checked and the code exchanged with PKCE."""
    response, asked = _sign_in_through_the_provider(
        client, provider, {"sub": "city-0042", "email": "Officer@Police.Example", "email_verified": True},
        next_url="/requests/",
    )
    assert response.status_code == 302 and response.headers["Location"] == "/requests/"
    assert _signed_in_as(client) == str(city.officer.pk)
    assert asked["scope"] == ["openid email"] and asked["code_challenge_method"] == ["S256"]
    [exchange] = provider.token_requests
    assert exchange["code"] == "code-from-the-provider" and exchange["code_verifier"]
    assert client.get("/requests/").status_code == 200


@pytest.mark.parametrize("claims, reason", [
    ({"email": "stranger@city.example", "email_verified": True}, "no person in the portal has this e-mail address"),
    ({"email": "officer@police.example", "email_verified": False}, "did not vouch for the e-mail address"),
    ({"email": "officer@police.example"}, "did not vouch for the e-mail address"),
    ({"email_verified": True}, "did not vouch for the e-mail address"),
])
def test_a_city_account_that_matches_no_verified_person_is_refused_and_recorded(city, client, provider, claims, reason):
    """S3.10: the provider never makes a person: ITSA does."""
    people = User.objects.count()
    response, _ = _sign_in_through_the_provider(client, provider, claims)
    assert response.status_code == 302 and response.headers["Location"] == "/accounts/login/"
    assert _signed_in_as(client) is None
    assert User.objects.count() == people
    [event] = _refusal(claims.get("email", ""))
    assert reason in event.detail
    assert "Your city account did not sign you in" in " ".join(str(m) for m in get_messages(response.wsgi_request))


def test_a_deactivated_person_cannot_sign_in_with_the_city_account(city, client, provider):
    """S3.10"""
    city.officer.is_active = False
    city.officer.save()
    response, _ = _sign_in_through_the_provider(client, provider, {"email": city.officer.email, "email_verified": True})
    assert response.headers["Location"] == "/accounts/login/" and _signed_in_as(client) is None
    assert "deactivated" in _refusal(city.officer.email).get().detail


def test_a_locked_account_stays_locked_for_the_city_account_too(city, client, provider):
    """S3.10: the lock after failed password sign-ins holds until ITSA releases it."""
    AccountLock.objects.create(user=city.officer)
    response, _ = _sign_in_through_the_provider(client, provider, {"email": city.officer.email, "email_verified": True})
    assert response.headers["Location"] == "/accounts/login/" and _signed_in_as(client) is None
    assert "locked" in _refusal(city.officer.email).get().detail


def test_two_people_with_one_address_in_different_case_are_never_guessed_between(city, client, provider):
    User.objects.create(email="OFFICER@police.example", full_name="Olive Twin")
    _sign_in_through_the_provider(client, provider, {"email": "officer@police.example", "email_verified": True})
    assert _signed_in_as(client) is None
    assert "more than one person" in _refusal("officer@police.example").get().detail


def test_an_id_token_issued_to_another_city_application_is_refused(city, client, provider):
    """S3.10: the library skips the audience check; the portal does not."""
    provider.audience = "the-parking-app"
    response, _ = _sign_in_through_the_provider(client, provider, {"email": city.officer.email, "email_verified": True})
    assert response.status_code == 400 and _signed_in_as(client) is None


def test_a_head_signed_in_with_the_city_account_still_passes_the_portals_second_factor(city, client, provider):
    """S3.10: the provider's sign-in replaces the password, never the portal's own second factor."""
    _sign_in_through_the_provider(client, provider, {"email": city.head.email, "email_verified": True})
    assert _signed_in_as(client) == str(city.head.pk)
    response = client.get("/requests/")
    assert response.status_code == 302
    assert response.headers["Location"].split("?")[0] in (reverse("security:setup"), reverse("security:verify"))


def test_failed_city_sign_ins_do_not_lock_everyone_out_of_the_city_account(city, client, provider):
    """Refusals carry no e-mail address to count against: they must not add up to a lock on the option."""
    for _ in range(6):
        _sign_in_through_the_provider(client, provider, {"email": "stranger@city.example", "email_verified": True})
    _sign_in_through_the_provider(client, provider, {"email": city.officer.email, "email_verified": True})
    assert _signed_in_as(client) == str(city.officer.pk)


def test_local_accounts_keep_working_and_never_reach_the_provider(city, client, provider):
    """A password sign-in whose address carries ?code=&state= does not make the portal call the provider."""
    response = client.post("/accounts/login/?code=x&state=y", {"username": city.officer.email, "password": PASSWORD})
    assert response.status_code == 302 and _signed_in_as(client) == str(city.officer.pk)
    assert provider.token_requests == []


def test_the_backend_signs_out_a_person_deactivated_since_signing_in(city, provider):
    backend = CityOIDCBackend()
    assert backend.get_user(city.officer.pk) == city.officer
    city.officer.is_active = False
    city.officer.save()
    assert backend.get_user(city.officer.pk) is None


def test_the_sign_in_page_offers_the_city_account_only_when_it_is_on(city, client, settings):
    settings.OIDC_ENABLED = False
    assert "Sign in with your city account" not in client.get("/accounts/login/").text
    settings.OIDC_ENABLED = True
    page = client.get("/accounts/login/", {"next": "/requests/"}).text
    assert 'href="/oidc/authenticate/?next=/requests/">Sign in with your city account</a>' in page


# --- Settings: the environment switches the option on -----------------------------------------

SHOW_SETTINGS = """
import json, django
from django.core.management import call_command
django.setup()
call_command("check", deploy=True, fail_level="WARNING")
from django.conf import settings
from django.urls import resolve, reverse
on = settings.OIDC_ENABLED
print(json.dumps({
    "on": on, "apps": settings.INSTALLED_APPS, "backends": settings.AUTHENTICATION_BACKENDS,
    "create_user": getattr(settings, "OIDC_CREATE_USER", None), "algorithm": getattr(settings, "OIDC_RP_SIGN_ALGO", None),
    "callback": resolve(reverse("oidc_authentication_callback")).func.view_class.__name__ if on else None,
    "start": reverse("oidc_authentication_init") if on else None,
}))
"""


def _settings_with(**variables):
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "OIDC_"))}
    environment.update(DJANGO_ENV="production", DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
                       DJANGO_ALLOWED_HOSTS="portal.city.example", PORTAL_BASE_URL="https://portal.city.example",
                       DJANGO_SETTINGS_MODULE="portal.settings", **variables)
    return subprocess.run([sys.executable, "-c", SHOW_SETTINGS], cwd=ROOT, env=environment, capture_output=True,
                          text=True, timeout=60)


def test_the_environment_switches_single_sign_on_on_and_the_deploy_check_stays_clean():
    result = _settings_with(**OIDC_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    shown = json.loads(result.stdout.splitlines()[-1])
    assert shown["on"] and "mozilla_django_oidc" in shown["apps"]
    backends = shown["backends"]
    assert backends.index("axes.backends.AxesStandaloneBackend") < backends.index("security.oidc.CityOIDCBackend") \
        < backends.index("django.contrib.auth.backends.ModelBackend")
    assert shown["create_user"] is False and shown["algorithm"] == "RS256"
    assert shown["callback"] == "CityOIDCCallbackView" and shown["start"] == "/oidc/authenticate/"


def test_without_a_client_id_there_is_no_single_sign_on():
    result = _settings_with(OIDC_RP_CLIENT_ID="")
    assert result.returncode == 0, result.stdout + result.stderr
    shown = json.loads(result.stdout.splitlines()[-1])
    assert not shown["on"] and "mozilla_django_oidc" not in shown["apps"]
    assert "security.oidc.CityOIDCBackend" not in shown["backends"]


def test_single_sign_on_refuses_to_start_half_configured():
    result = _settings_with(**{**OIDC_ENV, "OIDC_RP_CLIENT_SECRET": ""})
    assert result.returncode != 0
    assert "Set OIDC_RP_CLIENT_SECRET" in result.stderr
