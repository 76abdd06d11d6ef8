"""Every URL of the pages around the API (the token page and the documentation) × every role.

Each cell says what the role gets: "ok" (the page, or the change is made), "404" (the page does not
exist for them, and nothing changes), "login" (anonymous: sent to sign in). Only ITSA sees, makes
and revokes tokens; oversight included, nobody else even sees the page (S3.10). Every signed-in
person reads the documentation (S3.6b).
"""

from datetime import timedelta

import pytest
from conftest import build_city, signed_in_client
from matrix import check_cell, url_case
from django.urls import reverse
from django.utils import timezone

from api.models import ApiToken, Scope
from api.services import token_create

ROLES = ["anonymous", "head", "requester", "officer", "outsider", "itsa", "designee", "auditor"]


class World:
    def __init__(self, city):
        self.city = city
        self.token, _ = token_create(name="LPR vendor sync", scopes=[Scope.READ, Scope.REPORT_USE],
                                     expires_on=timezone.localdate() + timedelta(days=30), by=city.itsa,
                                     system=city.lpr)


def snapshot():
    return sorted(ApiToken.objects.values_list("pk", "name", "revoked_at"))


def _new_token(w):
    return {"name": "Queue bot", "scopes": [Scope.PROVISION], "system": "",
            "expires_on": (timezone.localdate() + timedelta(days=90)).isoformat()}


ITSA_ONLY = {role: "404" for role in ROLES if role != "anonymous"} | {"itsa": "ok"}
SIGNED_IN = {role: "ok" for role in ROLES if role != "anonymous"}

CASES = [
    url_case("api_tokens:list", "get", lambda w: {}, ITSA_ONLY),
    url_case("api_tokens:new", "post", lambda w: {}, ITSA_ONLY, data=_new_token),
    url_case("api_tokens:revoke", "post", lambda w: {"pk": w.token.pk}, ITSA_ONLY),
    url_case("api_tokens:docs", "get", lambda w: {}, SIGNED_IN),
]

CELLS = [
    pytest.param(case, role, id=f"{case['method'].upper()} {case['name']} #{index} as {role}")
    for index, case in enumerate(CASES)
    for role in ROLES
]


def build_world():
    return World(build_city())


def _login(client, world, role):
    if role != "anonymous":
        client.force_login(getattr(world.city, role))


@pytest.mark.parametrize(("case", "role"), CELLS)
def test_each_role_gets_exactly_what_the_token_matrix_says(case, role, city, world):
    """S3.10, S3.6b: only ITSA sees, makes and revokes tokens; every signed-in person reads the docs."""
    client = signed_in_client()
    _login(client, world, role)
    check_cell(client, case, role, world, snapshot)


@pytest.mark.parametrize("name", ["api_tokens:new", "api_tokens:revoke"])
def test_the_token_changes_answer_get_with_405(name, city, world):
    client = signed_in_client()
    _login(client, world, "itsa")
    kwargs = {"pk": world.token.pk} if name == "api_tokens:revoke" else {}
    assert client.get(reverse(name, kwargs=kwargs)).status_code == 405


def test_the_token_changes_need_a_csrf_token(city, world):
    client = signed_in_client(enforce_csrf_checks=True)
    _login(client, world, "itsa")
    before = snapshot()
    assert client.post(reverse("api_tokens:new"), _new_token(world)).status_code == 403
    assert client.post(reverse("api_tokens:revoke", kwargs={"pk": world.token.pk})).status_code == 403
    assert snapshot() == before
