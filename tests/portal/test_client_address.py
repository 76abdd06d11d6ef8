"""Where a request comes from, as the audit trail and the lockout record it: X-Forwarded-For is
believed only from a trusted proxy, read from the right (S3.10)."""

import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.test import RequestFactory

from portal.client_address import client_address

PROXY = "127.0.0.1"
CLIENT = "198.51.100.7"


def _address(remote_addr, forwarded_for=None):
    extra = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client_address(RequestFactory().get("/", **extra))


@pytest.fixture
def behind_proxies(settings):
    settings.PORTAL_TRUSTED_PROXIES = [PROXY, "10.0.0.0/8"]


def test_with_no_trusted_proxy_the_header_is_ignored(settings):
    settings.PORTAL_TRUSTED_PROXIES = []

    assert _address(PROXY, CLIENT) == PROXY


def test_a_direct_client_cannot_choose_its_address_with_the_header(behind_proxies):
    """The header names a trusted proxy, but the request did not come from one."""
    assert _address("203.0.113.9", f"{CLIENT}, {PROXY}") == "203.0.113.9"


def test_from_a_trusted_proxy_the_client_it_names_is_recorded(behind_proxies):
    assert _address(PROXY, CLIENT) == CLIENT


def test_through_a_chain_of_proxies_the_first_untrusted_address_from_the_right_is_the_client(behind_proxies):
    """Whatever the client wrote itself stays to the left of what the proxies appended."""
    assert _address(PROXY, f"192.0.2.1, {CLIENT}, 10.1.2.3") == CLIENT


def test_when_every_hop_is_a_trusted_proxy_the_first_one_is_the_client(behind_proxies):
    assert _address(PROXY, "10.0.0.5, 10.1.2.3") == "10.0.0.5"


@pytest.mark.parametrize("header, expected", [
    ("not-an-address", PROXY),
    (f"{CLIENT}, garbage", PROXY),
    (f"garbage, {CLIENT}", CLIENT),
    (f"{CLIENT},", PROXY),
    ("", PROXY),
    (f"{CLIENT}:4711", PROXY),
    ("\x00, 10.1.2.3", "10.1.2.3"),
])
def test_a_malformed_header_stops_at_the_last_address_a_trusted_proxy_vouched_for(behind_proxies, header, expected):
    assert _address(PROXY, header) == expected


def test_an_ipv4_proxy_reported_by_a_dual_stack_server_is_trusted(behind_proxies):
    assert _address(f"::ffff:{PROXY}", CLIENT) == CLIENT


def test_ipv6_clients_and_proxies_are_read_too(settings):
    settings.PORTAL_TRUSTED_PROXIES = ["fd00::/8"]

    assert _address("fd00::1", "2001:DB8::0001") == "2001:db8::1"


def test_no_address_when_the_server_gives_none(behind_proxies):
    assert _address("", CLIENT) is None


def test_a_setting_that_is_not_an_address_stops_the_portal_with_a_clear_error():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=django_settings.BASE_DIR, capture_output=True, text=True,
        env={**os.environ, "PORTAL_TRUSTED_PROXIES": "127.0.0.1,caddy"},
    )

    assert result.returncode != 0
    assert "PORTAL_TRUSTED_PROXIES: 'caddy' does not appear to be an IPv4 or IPv6 network." in result.stderr
