"""Security headers on the portal's pages, and templates that the Content Security Policy can keep."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import file_request
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
# Mail is read in mail clients, never served under the portal's Content Security Policy, and
# needs inline style to look right there.
NOT_SERVED = {TEMPLATES / "emails"}


def _csp(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def _page(city, client, page):
    if page == "the sign-in page":
        return client.get("/accounts/login/")
    if page == "the admin sign-in page":
        return client.get("/admin/login/")
    client.force_login(city.head)
    if page == "the head's dashboard":
        return client.get("/")
    return client.get(f"/requests/{file_request(city).pk}/")


@pytest.mark.parametrize("page", ["the sign-in page", "the admin sign-in page", "the head's dashboard",
                                  "a request's page"])
def test_the_page_carries_a_strict_content_security_policy(city, client, page):
    """S3.10: no inline script or style, nothing from elsewhere, no framing, no plugins."""
    response = _page(city, client, page)
    assert response.status_code == 200
    header = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header
    policy = _csp(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]


@pytest.mark.parametrize("page", ["the sign-in page", "the admin sign-in page", "the head's dashboard",
                                  "a request's page"])
def test_the_page_refuses_framing_sniffing_referrers_openers_and_devices(city, client, page):
    """S3.10"""
    response = _page(city, client, page)
    assert response.status_code == 200
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    denied = dict(item.strip().split("=") for item in response.headers["Permissions-Policy"].split(","))
    for feature in ("camera", "microphone", "geolocation", "usb", "payment"):
        assert denied[feature] == "()"


def _production_settings(*names: str) -> dict:
    """The values production settings give these names, read in a fresh process."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "OIDC_"))}
    environment.update(DJANGO_ENV="production", DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
                       DJANGO_ALLOWED_HOSTS="portal.city.example", PORTAL_BASE_URL="https://portal.city.example",
                       DJANGO_SETTINGS_MODULE="portal.settings")
    script = "import json, sys; from django.conf import settings; print(json.dumps({n: getattr(settings, n) for n in sys.argv[1:]}))"
    result = subprocess.run([sys.executable, "-c", script, *names], cwd=ROOT, env=environment, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_sends_a_year_of_hsts_with_subdomains_and_preload_and_secure_cookies(city, client):
    """S3.10: HTTPS only, for a year, on every subdomain; cookies never travel in clear text nor to scripts."""
    production = _production_settings(
        "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE",
        "CSRF_COOKIE_SECURE", "CSRF_COOKIE_HTTPONLY", "CSRF_COOKIE_SAMESITE",
    )
    assert production["SECURE_HSTS_SECONDS"] >= 365 * 24 * 60 * 60
    assert production["SECURE_SSL_REDIRECT"] is True
    for cookie in ("SESSION", "CSRF"):
        assert production[f"{cookie}_COOKIE_SECURE"] is production[f"{cookie}_COOKIE_HTTPONLY"] is True
        assert production[f"{cookie}_COOKIE_SAMESITE"] in ("Lax", "Strict")

    with override_settings(**production):
        insecure = client.get("/accounts/login/")
        secure = client.get("/accounts/login/", secure=True)
    assert insecure.status_code == 301 and insecure.headers["Location"].startswith("https://")
    assert secure.status_code == 200
    assert secure.headers["Strict-Transport-Security"] == (
        f"max-age={production['SECURE_HSTS_SECONDS']}; includeSubDomains; preload"
    )
    cookie = secure.cookies["csrftoken"]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == production["CSRF_COOKIE_SAMESITE"]


# --- Templates the policy can keep -------------------------------------------------------------

_TAG = re.compile(r"<[a-zA-Z][^>]*>", re.DOTALL)
_RULES = [
    (re.compile(r"<script\b[^>]*>(?!\s*</script>)", re.IGNORECASE), "inline <script> content"),
    (re.compile(r"<style\b", re.IGNORECASE), "a <style> element"),
    (re.compile(r"javascript:", re.IGNORECASE), "a javascript: URL"),
]
_TAG_RULES = [
    (re.compile(r"\sstyle\s*=", re.IGNORECASE), "a style= attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.IGNORECASE), "an on*= event handler attribute"),
    # htmx runs these through eval, which htmx.config.allowEval refuses (and the policy would too).
    (re.compile(r"\shx-(on\b|on:|vars\s*=)", re.IGNORECASE), "an htmx attribute that needs eval"),
    (re.compile(r"""\shx-trigger\s*=\s*["'][^"']*\[""", re.IGNORECASE), "an htmx trigger filter (needs eval)"),
    (re.compile(r"""\shx-vals\s*=\s*["']\s*(js|javascript):""", re.IGNORECASE), "js: in hx-vals (needs eval)"),
]


def csp_problems(text: str, name: str = "") -> list[str]:
    """Every place in a template's text that a policy without 'unsafe-inline' would break."""

    def line(offset):
        return text.count("\n", 0, offset) + 1

    found = [(m.start(), what) for pattern, what in _RULES for m in pattern.finditer(text)]
    for tag in _TAG.finditer(text):
        found += [(tag.start() + m.start(), what) for pattern, what in _TAG_RULES for m in pattern.finditer(tag.group())]
    return [f"{name}:{line(offset)}: {what}" for offset, what in sorted(found)]


def test_the_template_check_finds_each_kind_of_inline_code():
    text = "\n".join([
        '<script src="/static/app.js"></script>',
        "<script>alert(1)</script>",
        '<p style="color: red">',
        '<a href="JavaScript:void(0)">',
        '<button type="button"\n        onclick="go()">',
        "<style>p { color: red }</style>",
        '<div hx-on:click="go()" hx-trigger="keyup[key==\'Enter\']">',
        '<p>Turn the camera on = off</p>',
    ])
    assert csp_problems(text, "t.html") == [
        "t.html:2: inline <script> content",
        "t.html:3: a style= attribute",
        "t.html:4: a javascript: URL",
        "t.html:6: an on*= event handler attribute",
        "t.html:7: a <style> element",
        "t.html:8: an htmx attribute that needs eval",
        "t.html:8: an htmx trigger filter (needs eval)",
    ]


def test_no_template_served_by_the_portal_has_inline_script_style_or_handlers():
    """S3.10: the policy has no 'unsafe-inline'; a template that needs it would break under it."""
    templates = [
        path for path in sorted(TEMPLATES.rglob("*.html"))
        if not any(path.is_relative_to(folder) for folder in NOT_SERVED)
    ]
    assert len(templates) > 20
    problems = [problem for path in templates
                for problem in csp_problems(path.read_text(), str(path.relative_to(ROOT)))]
    assert not problems, "\n".join(problems)
