"""Every URL of the API (/api/v1/) × every caller: the people of the city signed in by session, and
ITSA's tokens, each with one scope, one bound to another system, one revoked and one expired.

Each cell says what the caller gets: "ok" (200 with the rows, or the change is made), "empty" (200
and no rows: the list exists, nothing in it is theirs to see), "401" (not signed in: no token, a dead
one, or a session without the second factor), "403" (signed in, but not allowed: a missing scope,
another system's token, a session trying a change, a refusal of the service), "404" (no such object
for them), "422" (a rule of the service refuses it). Every answer but "ok" and "empty" is a problem
(RFC 9457), and the database is as it was.

A token acts as the ITSA administrator who made it (S3.5b: ITSA provisions), narrowed to its scopes;
a session only reads, as its person does on the pages.
"""

from datetime import timedelta

import pytest
from api_support import PROBLEM, SessionJson, bearer, fresh_call_counts, token_for  # noqa: F401
from conftest import build_city, file_request, provisioned
from django.urls import reverse
from django.utils import timezone

from access_requests.models import AccessRequest
from access_requests.services import access_request_approve
from accounts.models import Grant, SodFinding
from api.models import ApiToken, Scope
from api.services import token_revoke
from audits.models import Validation
from audits.services import open_due_validations

ROLES = ["anonymous", "head", "requester", "officer", "outsider", "itsa", "designee", "auditor"]
TOKENS = ["token_read", "token_report_use", "token_provision", "token_other_system", "token_revoked",
          "token_expired"]
CALLERS = ROLES + TOKENS
MISSING = 987654


class World:
    """The police's VMS: the officer's grant, a request approved by the head and waiting for ITSA, one
    waiting for the head, and the police's annual validation. ITSA's tokens, made by Ida ITSA, who
    holds no access to any system."""

    def __init__(self, city):
        self.city = city
        self.grant = provisioned(city).grant
        self.with_itsa = access_request_approve(request=file_request(city, person=city.analyst), by=city.head)
        self.awaiting_head = file_request(city, person=city.head, by=city.requester)
        [self.validation] = open_due_validations()
        self.secrets = {}
        for caller, scopes, system in (("token_read", [Scope.READ], None),
                                       ("token_report_use", [Scope.REPORT_USE], None),
                                       ("token_provision", [Scope.PROVISION], None),
                                       ("token_other_system", list(Scope.values), city.lpr),
                                       ("token_revoked", list(Scope.values), None),
                                       ("token_expired", list(Scope.values), None)):
            token, self.secrets[caller] = token_for(city, *scopes, system=system, name=caller)
            setattr(self, caller, token)
        token_revoke(token=self.token_revoked, by=city.itsa)
        ApiToken.objects.filter(pk=self.token_expired.pk).update(expires_on=timezone.localdate() - timedelta(days=1))


def build_world():
    return World(build_city())


def snapshot():
    return (
        sorted(Grant.objects.values_list("pk", "status", "role", "account_name", "last_used_at")),
        sorted(AccessRequest.objects.values_list("pk", "status", "return_reason", "account_name")),
        sorted(Validation.objects.values_list("pk", "status")),
        SodFinding.objects.count(),
        sorted(ApiToken.objects.values_list("pk", "revoked_at", "expires_on")),
    )


def api_case(name, method, kwargs, expect, data=None, *, url=None):
    """One row: the URL name (or a literal `url` for the catch-all), the method, its arguments and
    JSON body from the world, and what each caller gets (CALLERS missing from `expect` get "401")."""
    return {"name": name, "method": method, "kwargs": kwargs, "expect": expect, "data": data, "url": url}


SIGNED_IN = {role: "ok" for role in ROLES if role != "anonymous"}
READ_TOKENS = {"token_read": "ok", "token_other_system": "ok", "token_report_use": "403", "token_provision": "403"}
# Every signed-in caller: read lists that hold something for ITSA and oversight, the police for their own.
EVERYONE = {**SIGNED_IN, **READ_TOKENS}
POLICE_ROWS = {**EVERYONE, "officer": "empty", "outsider": "empty", "designee": "empty",
               "token_other_system": "empty"}
POLICE_ROW = {**POLICE_ROWS, "officer": "404", "outsider": "404", "designee": "404", "token_other_system": "404"}
# The designee sees the requests they approve (a head's own) and every validation.
POLICE_REQUESTS = {**POLICE_ROWS, "designee": "ok"}
POLICE_REQUEST = {**POLICE_ROW, "designee": "404"}
# A token bound to another system reads no department or validation of the police (none of its accounts).
VALIDATIONS = {**POLICE_ROWS, "designee": "ok", "outsider": "empty", "token_other_system": "empty"}
VALIDATION = {**POLICE_ROW, "designee": "ok", "token_other_system": "404"}
# A change: only the token with its scope; a session is told changes need a token.
SESSIONS_REFUSED = {role: "403" for role in ROLES if role != "anonymous"}
WRITE_REFUSED = {**SESSIONS_REFUSED, "token_read": "403", "token_report_use": "403", "token_provision": "403",
                 "token_other_system": "403"}
REPORTS_USE = {**WRITE_REFUSED, "token_report_use": "ok"}
PROVISIONS = {**WRITE_REFUSED, "token_provision": "ok"}
NOBODY_FINDS = {caller: "404" for caller in CALLERS}


def _use_of_the_officer(w):
    return {"uses": [{"account_name": w.grant.account_name, "last_used_at": str(timezone.localdate())}]}


CASES = [
    api_case("api:schema", "get", lambda w: {}, {**SIGNED_IN, "token_read": "ok", "token_report_use": "ok",
                                                 "token_provision": "ok", "token_other_system": "ok"}),
    api_case("api:system-list", "get", lambda w: {}, EVERYONE),
    api_case("api:system-detail", "get", lambda w: {"code": w.city.vms.code},
             {**EVERYONE, "token_other_system": "404"}),
    api_case("api:system-detail", "get", lambda w: {"code": "nope"}, {**EVERYONE, **{
        caller: "404" for caller, got in EVERYONE.items() if got == "ok"}}),
    api_case("api:department-list", "get", lambda w: {}, {**EVERYONE, "officer": "empty", "designee": "empty",
                                                          "token_other_system": "empty"}),
    api_case("api:department-detail", "get", lambda w: {"code": w.city.police.code},
             {**EVERYONE, "officer": "404", "outsider": "404", "designee": "404", "token_other_system": "404"}),
    api_case("api:person-list", "get", lambda w: {}, {**EVERYONE, "officer": "empty", "designee": "empty",
                                                      "token_other_system": "empty"}),
    api_case("api:person-detail", "get", lambda w: {"pk": w.city.officer.pk}, POLICE_ROW),
    api_case("api:grant-list", "get", lambda w: {}, POLICE_ROWS),
    api_case("api:grant-detail", "get", lambda w: {"pk": w.grant.pk}, POLICE_ROW),
    api_case("api:request-list", "get", lambda w: {}, POLICE_REQUESTS),
    api_case("api:request-detail", "get", lambda w: {"pk": w.with_itsa.pk}, POLICE_REQUEST),
    api_case("api:request-detail", "get", lambda w: {"pk": w.awaiting_head.pk}, {**POLICE_REQUEST, "designee": "ok"}),
    api_case("api:validation-list", "get", lambda w: {}, VALIDATIONS),
    api_case("api:validation-detail", "get", lambda w: {"pk": w.validation.pk}, VALIDATION),
    # S3.5b: only ITSA's token with the scope changes anything.
    api_case("api:system_uses", "post", lambda w: {"code": w.city.vms.code}, REPORTS_USE, data=_use_of_the_officer),
    api_case("api:system_uses", "post", lambda w: {"code": "nope"}, {**REPORTS_USE, "token_report_use": "404",
                                                                 "token_other_system": "404"},
             data=_use_of_the_officer),
    api_case("api:request_provision", "post", lambda w: {"pk": w.with_itsa.pk}, PROVISIONS,
             data=lambda w: {"account_name": "analyst-vms"}),
    api_case("api:request_provision", "post", lambda w: {"pk": w.awaiting_head.pk},
             {**PROVISIONS, "token_provision": "422"}, data=lambda w: {"account_name": "head-vms"}),
    api_case("api:request_provision", "post", lambda w: {"pk": MISSING}, {**PROVISIONS, "token_provision": "404",
                                                                           "token_other_system": "404"},
             data=lambda w: {"account_name": "x"}),
    api_case("api:request_return", "post", lambda w: {"pk": w.with_itsa.pk}, PROVISIONS,
             data=lambda w: {"reason": "The justification names no case."}),
    api_case("api:request_return", "post", lambda w: {"pk": w.awaiting_head.pk},
             {**PROVISIONS, "token_provision": "422"}, data=lambda w: {"reason": "Not ours yet."}),
    # Any other URL under the API: a 404 problem for everyone, never the pages' HTML.
    api_case("api:not_found", "get", lambda w: {}, NOBODY_FINDS, url="/api/v1/nope/"),
    api_case("api:not_found", "post", lambda w: {}, NOBODY_FINDS, url="/api/v1/grants/1/nope/",
             data=lambda w: {"x": 1}),
]


def caller_client(world, caller):
    if caller in TOKENS:
        return bearer(world.secrets[caller])
    if caller == "anonymous":
        from rest_framework.test import APIClient

        return APIClient()
    return SessionJson(getattr(world.city, caller))


def check_api_cell(client, case, caller, world):
    url = case["url"] or reverse(case["name"], kwargs=case["kwargs"](world))
    expected = case["expect"].get(caller, "401")
    before = snapshot()
    data = case["data"](world) if case["data"] else {}
    if case["method"] == "get":
        response = client.get(url)
    elif isinstance(client, SessionJson):
        response = client.post(url, data)
    else:
        response = client.post(url, data, format="json")
    after = snapshot()
    if expected in ("ok", "empty"):
        assert response.status_code == 200, (response.status_code, response.content[:300])
        assert response["Content-Type"] in ("application/json", "application/vnd.oai.openapi+json")
        body = response.json()
        if "results" in body:
            assert bool(body["results"]) == (expected == "ok"), body["results"]
        else:
            assert expected == "ok", "a list answers with results"
        if case["method"] == "post":
            assert after != before, "the permitted change must take effect"
        else:
            assert after == before
    else:
        assert response.status_code == int(expected), (response.status_code, response.content[:300])
        assert response["Content-Type"] == PROBLEM
        problem = response.json()
        assert problem["status"] == int(expected) and problem["detail"]
        if expected == "401":
            assert response["WWW-Authenticate"].startswith("Bearer")
        assert after == before, "a refused call must leave the database as it was"
    return response


CELLS = [
    pytest.param(case, caller, id=f"{case['method'].upper()} {case['name']} #{index} as {caller}")
    for index, case in enumerate(CASES)
    for caller in CALLERS
]


@pytest.mark.parametrize(("case", "caller"), CELLS)
def test_each_caller_gets_exactly_what_the_api_matrix_says(case, caller, world):
    """S3.5b, S3.4: who reads and changes what through the API, by session or token."""
    check_api_cell(caller_client(world, caller), case, caller, world)


@pytest.mark.parametrize("role", ["itsa", "designee", "auditor"])
def test_a_session_without_its_second_factor_is_not_signed_in(role, world):
    """S3.10: a role that needs a second factor reads nothing through the API on the password alone."""
    from django.test import Client

    from security.services import second_factor_required

    person = getattr(world.city, role)
    assert second_factor_required(person)
    client = Client()
    client.force_login(person)
    response = client.get(reverse("api:grant-list"))
    assert response.status_code == 401 and response["Content-Type"] == PROBLEM


def test_the_matrix_names_every_route_of_the_api():
    from django.urls import get_resolver

    names = {f"api:{name}" for name in get_resolver("api.urls").reverse_dict if isinstance(name, str)}
    assert names <= {case["name"] for case in CASES}
