"""Hostile bodies sent to every write of the API: wrong types, missing fields, nulls, huge strings,
batches over the limit, NUL bytes, markup, deep nesting, bodies that are not JSON or not declared as
JSON, and empty ones. Never a 500: a refusal is a problem (RFC 9457) with a plain `detail`, and
nothing is written; the few bodies a write may take are taken as plain text."""

import json

import pytest
from api_support import PROBLEM, fresh_call_counts, token_for  # noqa: F401
from conftest import build_city, file_request
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from access_requests.models import AccessRequest
from access_requests.services import access_request_approve
from accounts.models import Grant, SodFinding
from api.models import Scope

MARKUP = '<script>alert("x")</script><img src=x onerror=alert(1)>'


class World:
    def __init__(self, city):
        from conftest import provisioned

        self.city = city
        self.grant = provisioned(city).grant
        self.with_itsa = access_request_approve(request=file_request(city, person=city.analyst), by=city.head)
        _, self.secret = token_for(city, *Scope.values, name="Fuzzed integration")


def build_world():
    return World(build_city())


def snapshot():
    return (
        sorted(Grant.objects.values_list("pk", "status", "account_name", "last_used_at")),
        sorted(AccessRequest.objects.values_list("pk", "status", "return_reason", "account_name")),
        SodFinding.objects.count(),
    )


WRITES = {
    "uses": lambda w: reverse("api:system_uses", kwargs={"code": w.city.vms.code}),
    "provision": lambda w: reverse("api:request_provision", kwargs={"pk": w.with_itsa.pk}),
    "return": lambda w: reverse("api:request_return", kwargs={"pk": w.with_itsa.pk}),
}
FIELD = {"uses": "uses", "provision": "account_name", "return": "reason"}


def _use(name="x", when="2026-01-01"):
    return {"uses": [{"account_name": name, "last_used_at": when}]}


def _field(write, value):
    """The write's one field set to `value`, for uses inside one entry."""
    return _use(name=value) if write == "uses" else {FIELD[write]: value}


def _nested(depth):
    return "[" * depth + "]" * depth


# (label, body as bytes or a JSON-able value, content type, writes that may take it)
BODIES = [
    ("empty object", {}, "application/json", {"provision"}),
    ("empty body", b"", "application/json", {"provision"}),
    ("empty body, no type", b"", None, {"provision"}),
    ("null", None, "application/json", set()),
    ("a list", [1, 2, 3], "application/json", set()),
    ("a string", "uses", "application/json", set()),
    ("a number", 12, "application/json", set()),
    ("true", True, "application/json", set()),
    ("field null", "null-field", "application/json", set()),
    ("field a number", "number-field", "application/json", set()),
    ("field a list", "list-field", "application/json", set()),
    ("field an object", "object-field", "application/json", set()),
    ("field true", "bool-field", "application/json", set()),
    ("field huge", "huge-field", "application/json", set()),
    ("field with NUL", "nul-field", "application/json", set()),
    ("field with a lone surrogate", b'{"uses": [{"account_name": "\\ud800", "last_used_at": "2026-01-01"}], '
                                    b'"account_name": "\\udfff", "reason": "\\ud800"}', "application/json", set()),
    ("field with markup", "markup-field", "application/json", {"uses", "provision", "return"}),
    ("uses not a list", {"uses": "x"}, "application/json", set()),
    ("uses of nulls", {"uses": [None, None]}, "application/json", set()),
    ("uses empty", {"uses": []}, "application/json", set()),
    ("use missing its date", {"uses": [{"account_name": "x"}]}, "application/json", set()),
    ("use with a date of no calendar", _use(when="2026-02-30"), "application/json", set()),
    ("use with a huge date", _use(when="2" * 100_000), "application/json", set()),
    ("use with a number for its date", _use(when=20260101), "application/json", set()),
    ("10,000 uses", {"uses": [{"account_name": f"a{i}", "last_used_at": "2026-01-01"} for i in range(10_000)]},
     "application/json", set()),
    ("infinite number", b'{"account_name": 1e999, "reason": 1e999, "uses": 1e999}', "application/json", set()),
    ("NaN", b'{"account_name": NaN, "reason": NaN, "uses": NaN}', "application/json", set()),
    ("deeply nested body", _nested(100_000).encode(), "application/json", set()),
    ("deeply nested field", ('{"uses": %s, "account_name": %s, "reason": %s}' % ((_nested(50_000),) * 3)).encode(),
     "application/json", set()),
    ("not JSON", b"uses: everything", "application/json", set()),
    ("half JSON", b'{"uses": [', "application/json", set()),
    ("not UTF-8", b'{"reason": "\xff\xfe"}', "application/json", set()),
    ("form-encoded", b"uses=1&reason=x&account_name=x", "application/x-www-form-urlencoded", set()),
    ("multipart", b"--b\r\nContent-Disposition: form-data; name=\"reason\"\r\n\r\nx\r\n--b--\r\n",
     "multipart/form-data; boundary=b", set()),
    ("JSON as plain text", b'{"reason": "x", "account_name": "x"}', "text/plain", set()),
    ("JSON as XML", b'{"reason": "x", "account_name": "x"}', "application/xml", set()),
    ("unknown fields only", {"is_admin": True, "status": "completed", "grant": 1}, "application/json",
     {"provision"}),
]
SPECIAL = {
    "null-field": None, "number-field": 12345, "list-field": ["a", "b"], "object-field": {"a": "b"},
    "bool-field": False, "huge-field": "x" * 1_000_000, "nul-field": "a\x00b", "markup-field": MARKUP,
}


def _body(write, body):
    if isinstance(body, bytes):
        return body
    if isinstance(body, str) and body in SPECIAL:
        body = _field(write, SPECIAL[body])
    return json.dumps(body).encode()


def post(world, write, raw, content_type):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.secret}")
    response = client.generic("POST", WRITES[write](world), raw, content_type=content_type or "")
    if content_type == "application/json":
        assert response.status_code != 415, "a JSON body reaches the parser"
    return response


def check_refused_or_taken(world, write, response, before, *, may_pass):
    assert response.status_code < 500, response.content[:300]
    if 200 <= response.status_code < 300:
        assert may_pass, f"{write} took the body: {response.content[:300]}"
        return
    assert response["Content-Type"] == PROBLEM, response["Content-Type"]
    problem = response.json()
    assert problem["status"] == response.status_code and problem["title"]
    detail = problem["detail"]
    assert isinstance(detail, str) and 3 < len(detail) < 2000 and "Traceback" not in detail
    assert snapshot() == before, "a refused write must leave the database as it was"


CASES = [pytest.param(write, label, body, content_type, write in may_pass, id=f"{write}: {label}")
         for write in WRITES for label, body, content_type, may_pass in BODIES]


@pytest.mark.parametrize(("write", "label", "body", "content_type", "may_pass"), CASES)
def test_a_hostile_body_is_never_a_500_and_a_refusal_writes_nothing(world, write, label, body, content_type,
                                                                     may_pass):
    """S3.10: the API refuses what it cannot take in its own terms, and changes nothing for it."""
    before = snapshot()
    response = post(world, write, _body(write, body), content_type)
    check_refused_or_taken(world, write, response, before, may_pass=may_pass)
    if label == "field with markup" and response.status_code == 200:
        # Taken as text, never as markup: the answer is JSON, the text in it as sent.
        assert response["Content-Type"] == "application/json" and MARKUP in response.content.decode("unicode_escape")


def test_a_batch_over_the_limit_says_the_limit(world):
    body = {"uses": [{"account_name": f"a{i}", "last_used_at": "2026-01-01"} for i in range(5001)]}
    response = post(world, "uses", json.dumps(body).encode(), "application/json")
    assert response.status_code == 400 and "5000" in response.json()["detail"]


def test_a_refusal_names_each_bad_entry_where_it_is(world):
    body = {"uses": [{"account_name": "ok", "last_used_at": "2026-01-01"}, {"account_name": "", "last_used_at": 1},
                     {"last_used_at": "2026-01-01"}]}
    problem = post(world, "uses", json.dumps(body).encode(), "application/json").json()
    assert set(problem["errors"]) == {"uses[1].account_name", "uses[1].last_used_at", "uses[2].account_name"}
    assert problem["errors"]["uses[1].last_used_at"] == ["Send text (a JSON string), not int."]
    assert problem["detail"].startswith("The request is not valid: uses[1].account_name:")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
SHAPED = st.fixed_dictionaries({}, optional={
    "uses": st.lists(st.fixed_dictionaries({}, optional={"account_name": JSON_VALUES, "last_used_at": JSON_VALUES})
                     | JSON_VALUES, max_size=5) | JSON_VALUES,
    "account_name": JSON_VALUES, "reason": JSON_VALUES,
}) | JSON_VALUES


@pytest.mark.parametrize("write", list(WRITES))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=SHAPED)
def test_any_json_is_answered_without_a_500(world, write, body):
    """S3.10: whatever JSON arrives, the answer is the API's own: a result or a problem."""
    response = post(world, write, json.dumps(body).encode(), "application/json")
    assert response.status_code < 500, (body, response.content[:300])
    if response.status_code >= 400:
        assert response["Content-Type"] == PROBLEM and response.json()["detail"]
