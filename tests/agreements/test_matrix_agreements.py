"""Every URL of the information sharing agreement pages (S3.7, T2) × every role.

Each cell says what the role gets: "ok" (the page, or the change is made), "404" (the object or page
does not exist for them), "login" (anonymous: sent to sign in), "refused" (they see the object but the
service or the form refuses the change: nothing in the database changes)."""

from datetime import timedelta

import pytest
from conftest import build_city, make_directors, signed_in_client
from matrix import check_cell, url_case
from django.urls import reverse
from django.utils import timezone

from accounts.models import Grant, User
from agreements.models import SharingAgreement

ROLES = ["anonymous", "head", "requester", "officer", "outsider", "itsa", "designee", "safety_director",
         "operations_director", "auditor"]


class World:
    """A pending and an approved agreement of the police (the approved one with a third party's
    person holding a view-only grant), and a pending agreement of the streets department."""

    def __init__(self, city):
        # Imported here: the URLconf check loads this module by path, with only tests/ importable.
        from agreement_setup import add_person, approved, ask

        self.city = city
        self.pending = ask(city, third_party="Campus Police", category="security_organization")
        self.approved = approved(city)
        self.grant = add_person(city, self.approved)
        self.streets = ask(city, department=city.streets, by=city.outsider, third_party="Transit Police")
        directors = make_directors()
        self.people = {"safety_director": directors.safety, "operations_director": directors.operations}

    def person(self, role):
        return self.people.get(role) or getattr(self.city, role)


def snapshot():
    return (
        sorted(SharingAgreement.objects.values_list("pk", "status", "decided_by", "ended_by")),
        sorted(Grant.objects.values_list("pk", "status")),
        User.objects.count(),
    )


def _new_data(w):
    today = timezone.localdate()
    return {"department": w.city.police.pk, "third_party": "State Patrol", "category": "law_enforcement",
            "shared": "Video.", "conditions": "Investigations.", "systems": [w.city.vms.pk],
            "starts_on": today, "ends_on": today + timedelta(days=30)}


def _person_data(w):
    return {"full_name": "Sam Sergeant", "email": "sergeant@sheriff.example", "system": w.city.vms.pk,
            "permissible_uses": [w.city.crime_detection.pk], "account_name": "sheriff-ssergeant"}


NOBODY_ELSE = {"officer": "404", "outsider": "404", "safety_director": "404", "operations_director": "404"}
ALL_LOGGED_IN = {role: "ok" for role in ROLES if role != "anonymous"}
# The auditor (oversight) reads every department's agreements and changes nothing.
POLICE = {"head": "ok", "requester": "ok", "itsa": "ok", "designee": "ok", "auditor": "ok", **NOBODY_ELSE}
STREETS = {"outsider": "ok", "itsa": "ok", "designee": "ok", "auditor": "ok", "head": "404", "requester": "404",
           "officer": "404", "safety_director": "404", "operations_director": "404"}
HEADS = {"head": "ok", "outsider": "ok", "requester": "404", "officer": "404", "itsa": "404", "designee": "404",
         "safety_director": "404", "operations_director": "404", "auditor": "404"}

CASES = [
    url_case("agreements:list", "get", lambda w: {}, ALL_LOGGED_IN),
    url_case("agreements:new", "get", lambda w: {}, HEADS),
    # The outsider heads the streets department: the police's department is not theirs to choose.
    url_case("agreements:new", "post", lambda w: {}, {**HEADS, "outsider": "refused"}, data=_new_data),
    url_case("agreements:detail", "get", lambda w: {"pk": w.pending.pk}, POLICE),
    url_case("agreements:detail", "get", lambda w: {"pk": w.approved.pk}, POLICE),
    url_case("agreements:detail", "get", lambda w: {"pk": w.streets.pk}, STREETS),
    url_case("agreements:decide", "post", lambda w: {"pk": w.pending.pk},
             {**POLICE, "head": "refused", "requester": "refused", "itsa": "refused", "auditor": "refused"},
             data=lambda w: {"decision": "approve", "reason": "Signed.", "mayor_approved_on": timezone.localdate()}),
    url_case("agreements:end", "post", lambda w: {"pk": w.approved.pk},
             {**POLICE, "head": "refused", "requester": "refused", "itsa": "refused", "auditor": "refused"},
             data=lambda w: {"reason": "The task force was dissolved."}),
    url_case("agreements:add_person", "post", lambda w: {"pk": w.approved.pk},
             {**POLICE, "head": "refused", "requester": "refused", "designee": "refused", "auditor": "refused"},
             data=_person_data),
]

CELLS = [
    pytest.param(case, role, id=f"{case['method'].upper()} {case['name']} #{index} as {role}")
    for index, case in enumerate(CASES)
    for role in ROLES
]


def _client(world, role):
    client = signed_in_client()
    if role != "anonymous":
        client.force_login(world.person(role))
    return client


# One world for the module (conftest.module_world): each test runs in a savepoint of it.
def build_world():
    return World(build_city())


@pytest.mark.parametrize(("case", "role"), CELLS)
def test_each_role_gets_exactly_what_the_matrix_says(case, role, city, world):
    """S3.7 S2.3: deny by default; only the designee decides and ends, only ITSA adds people."""
    client = _client(world, role)
    check_cell(client, case, role, world, snapshot)


FORM_PAGES = {c["name"] for c in CASES if c["method"] == "get"}


@pytest.mark.parametrize("case", [c for c in CASES if c["method"] == "post" and c["name"] not in FORM_PAGES],
                         ids=lambda c: c["name"])
def test_state_changing_urls_answer_get_with_405(case, city, world):
    client = _client(world, "itsa" if case["expect"].get("itsa") == "ok" else "designee")
    assert client.get(reverse(case["name"], kwargs=case["kwargs"](world))).status_code == 405


@pytest.mark.parametrize("case", [c for c in CASES if c["name"] != "agreements:list" and c["name"] != "agreements:new"],
                         ids=lambda c: f"{c['method']} {c['name']}")
def test_unknown_ids_answer_404(case, city, world):
    client = _client(world, "itsa" if case["expect"].get("itsa") == "ok" else "designee")
    url = reverse(case["name"], kwargs={key: 987654 for key in case["kwargs"](world)})
    response = client.get(url) if case["method"] == "get" else client.post(url, case["data"](world))
    assert response.status_code == 404


def test_state_changes_need_a_csrf_token(city, world):
    client = signed_in_client(enforce_csrf_checks=True)
    client.force_login(city.designee)
    before = snapshot()
    response = client.post(reverse("agreements:end", kwargs={"pk": world.approved.pk}), {"reason": "Closed."})
    assert response.status_code == 403
    assert snapshot() == before
