"""External system connections (S3.6a): every URL × every role, as in tests/test_permission_matrix.py.

"ok": the page, or the change is made; "404": the object or page does not exist for them; "login":
anonymous, sent to sign in; "refused": they see it but the service refuses, and nothing changes.
"""

from datetime import timedelta

import pytest
from conftest import build_city, make_directors, signed_in_client
from matrix import check_cell, url_case
from django.urls import reverse
from django.utils import timezone

from external.models import ExternalConnection
from external.services import external_connection_decide, external_connection_request

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "head", "requester", "officer", "outsider", "itsa", "designee", "safety_director",
         "operations_director", "auditor"]


def _ask(*, department, systems, uses, by, name, owner):
    # Written out here, not imported from a sibling module: the URL coverage test of
    # tests/test_permission_matrix.py loads this file by path, with only tests/ on sys.path.
    today = timezone.localdate()
    return external_connection_request(
        department=department, name=name, owner=owner, systems=systems, permissible_uses=uses,
        business_reasons="Detect crime at transit stations.", method="secure_api", starts_on=today,
        ends_on=today + timedelta(days=90), by=by,
    )


class World:
    """A pending and an approved connection of the police (the head asked), and a pending one of
    the streets department (the outsider asked)."""

    def __init__(self, city):
        self.city = city
        self.directors = make_directors()
        police = {"department": city.police, "systems": [city.vms], "uses": [city.crime_detection], "by": city.head}
        self.police_pending = _ask(**police, name="Transit station cameras", owner="Regional Transit Authority")
        self.police_approved = external_connection_decide(
            connection=_ask(**police, name="Airport cameras", owner="Airport Authority"), approve=True,
            reason="Crime detection.", by=city.designee)
        self.streets_pending = _ask(department=city.streets, systems=[city.traffic], uses=[city.traffic_monitoring],
                                    by=city.outsider, name="Signal vendor", owner="Signals Inc.")


def snapshot():
    return (
        sorted(ExternalConnection.objects.values_list("pk", "status", "decided_by", "renews")),
        sorted(ExternalConnection.systems.through.objects.values_list("pk", flat=True)),
        sorted(ExternalConnection.permissible_uses.through.objects.values_list("pk", flat=True)),
    )


def _new_data(w):
    c = w.city
    today = timezone.localdate()
    return {"department": c.police.pk, "name": "Stadium cameras", "owner": "Stadium Authority",
            "systems": [c.vms.pk], "permissible_uses": [c.crime_detection.pk], "business_reasons": "Crowd safety.",
            "method": "secure_network", "starts_on": today.isoformat(),
            "ends_on": (today + timedelta(days=30)).isoformat()}


ALL_LOGGED_IN = {role: "ok" for role in ROLES if role != "anonymous"}
NOBODY = {role: "404" for role in ROLES if role != "anonymous"}
# The auditor (oversight) reads every department's connections and changes nothing.
POLICE = {**NOBODY, "head": "ok", "requester": "ok", "itsa": "ok", "designee": "ok", "auditor": "ok"}
STREETS = {**NOBODY, "outsider": "ok", "itsa": "ok", "designee": "ok", "auditor": "ok"}

CASES = [
    url_case("external:list", "get", lambda w: {}, ALL_LOGGED_IN),
    url_case("external:new", "get", lambda w: {}, {**NOBODY, "head": "ok", "outsider": "ok"}),
    url_case("external:new", "post", lambda w: {}, {**NOBODY, "head": "ok", "outsider": "refused"}, data=_new_data),
    url_case("external:detail", "get", lambda w: {"pk": w.police_pending.pk}, POLICE),
    url_case("external:detail", "get", lambda w: {"pk": w.police_approved.pk}, POLICE),
    url_case("external:detail", "get", lambda w: {"pk": w.streets_pending.pk}, STREETS),
    # The designee decides; the head who asked, the requester and ITSA see the request but are refused.
    url_case("external:decide", "post", lambda w: {"pk": w.police_pending.pk},
             {**POLICE, "head": "refused", "requester": "refused", "itsa": "refused", "auditor": "refused"},
             data=lambda w: {"decision": "approve", "reason": "Crime detection."}),
    url_case("external:decide", "post", lambda w: {"pk": w.police_approved.pk},
             {**POLICE, "head": "refused", "requester": "refused", "itsa": "refused", "designee": "refused",
              "auditor": "refused"}, data=lambda w: {"decision": "deny", "reason": "Changed my mind."}),
    url_case("external:withdraw", "post", lambda w: {"pk": w.police_pending.pk},
             {**POLICE, "requester": "refused", "itsa": "refused", "designee": "refused", "auditor": "refused"}),
    url_case("external:withdraw", "post", lambda w: {"pk": w.streets_pending.pk},
             {**STREETS, "itsa": "refused", "designee": "refused", "auditor": "refused"}),
]


def _person(world, role):
    if role in ("safety_director", "operations_director"):
        return getattr(world.directors, role.split("_")[0])
    return getattr(world.city, role)


def _login(client, world, role):
    if role != "anonymous":
        client.force_login(_person(world, role))


CELLS = [
    pytest.param(case, role, id=f"{case['method'].upper()} {case['name']} #{index} as {role}")
    for index, case in enumerate(CASES)
    for role in ROLES
]


# One world for the module (conftest.module_world): each test runs in a savepoint of it.
def build_world():
    return World(build_city())


@pytest.mark.parametrize(("case", "role"), CELLS)
def test_each_role_gets_exactly_what_the_matrix_says(case, role, city, world):
    client = signed_in_client()
    _login(client, world, role)
    check_cell(client, case, role, world, snapshot)


FORM_PAGES = {c["name"] for c in CASES if c["method"] == "get"}


@pytest.mark.parametrize("case", [c for c in CASES if c["method"] == "post" and c["name"] not in FORM_PAGES],
                         ids=lambda c: c["name"])
def test_state_changing_urls_answer_get_with_405(case, city, world):
    client = signed_in_client()
    _login(client, world, "designee")
    response = client.get(reverse(case["name"], kwargs=case["kwargs"](world)))
    assert response.status_code == 405


@pytest.mark.parametrize("name", ["external:detail", "external:decide", "external:withdraw"])
def test_unknown_ids_answer_404(name, city):
    client = signed_in_client()
    client.force_login(city.designee)
    url = reverse(name, kwargs={"pk": 987654})
    response = client.get(url) if name == "external:detail" else client.post(url, {"decision": "approve",
                                                                                   "reason": "Fine."})
    assert response.status_code == 404


def test_state_changes_need_a_csrf_token(city, world):
    client = signed_in_client(enforce_csrf_checks=True)
    client.force_login(city.designee)
    before = snapshot()
    response = client.post(reverse("external:decide", kwargs={"pk": world.police_pending.pk}),
                           {"decision": "approve", "reason": "Fine."})
    assert response.status_code == 403
    assert snapshot() == before
