"""What the API's tests (tests/api) share. A test module imports `fresh_call_counts` to have it run
around each of its tests: a conftest.py in tests/api would hide the suite's own `conftest` module
from them, and the permission matrix loads test_matrix_api.py from here."""

import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def fresh_call_counts(monkeypatch):
    """The throttle counts calls in the "api" cache, Redis when there is one, which outlives the
    test's rollback. Each test counts under keys of its own rather than emptying a Redis database
    that a broker may share; a cache in memory is emptied."""
    from django.core.cache import caches

    from api.throttling import PerTokenThrottle

    cache = caches[PerTokenThrottle.cache_alias]
    if "LocMem" in type(cache).__name__:
        cache.clear()
    monkeypatch.setattr(PerTokenThrottle, "cache_format", f"throttle_{uuid.uuid4().hex}_%(scope)s_%(ident)s")


def token_for(city, *scopes, system=None, by=None, name=None):
    """A token made by ITSA (or `by`) and its secret."""
    from api.models import Scope
    from api.services import token_create

    name = name or f"script {'+'.join(scopes)} {system.code if system else ''} {uuid.uuid4().hex[:6]}"
    return token_create(name=name, scopes=list(scopes) or [Scope.READ],
                        expires_on=timezone.localdate() + timedelta(days=30), by=by or city.itsa, system=system)


def bearer(secret):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


class SessionJson:
    """A person's signed-in browser session (the pages' test client, which passes the second factor
    their role needs), sending and reading JSON."""

    def __init__(self, user):
        from conftest import signed_in_client

        self.client = signed_in_client()
        self.client.force_login(user)

    def get(self, url, data=None, **extra):
        return self.client.get(url, data, **extra)

    def post(self, url, data=None, **extra):
        return self.client.post(url, json.dumps(data if data is not None else {}), content_type="application/json",
                                **extra)


def assert_problem(response, status):
    """A problem details answer (RFC 9457) with this status and a plain detail."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"] == PROBLEM, response["Content-Type"]
    body = response.json()
    assert body["status"] == status and body["type"] and body["title"]
    assert isinstance(body["detail"], str) and body["detail"].strip()
    return body
