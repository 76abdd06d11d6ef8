"""The retention pages (S3.11) × every role.

Each cell says what the role gets: "ok" (the page, or the change is made), "404" (the object or page
does not exist for them), "login" (anonymous: sent to sign in), "refused" (they see the object but
the service or the form refuses the change: nothing in the database changes). The URLconf check in
tests/test_permission_matrix.py reads CASES: every URL name of retention/urls.py is here.
"""

from datetime import timedelta

import pytest
from conftest import build_city, make_directors, signed_in_client
from matrix import check_cell, url_case
from django.urls import reverse
from django.utils import timezone

from retention.models import RetentionExtension
from retention.services import retention_extension_decide, retention_extension_request
from portal.models import OutgoingEmail

ROLES = ["anonymous", "head", "requester", "officer", "outsider", "itsa", "designee", "safety_director",
         "operations_director", "auditor"]


class World:
    """An extension the police head asked for (the VMS), still awaiting the Director of Public Safety,
    and one ITSA asked for (the plate readers), granted."""

    def __init__(self, city, directors):
        self.city = city
        self.directors = directors
        today = timezone.localdate()
        dates = {"starts_on": today, "ends_on": today + timedelta(days=120), "review_on": today + timedelta(days=60)}
        self.requested = retention_extension_request(
            systems=[city.vms], condition="a", justification="Burglaries.", by=city.head, **dates)
        self.granted = retention_extension_decide(
            extension=retention_extension_request(systems=[city.lpr], condition="c", justification="Same crew.",
                                                  by=city.itsa, **dates),
            grant=True, reason="Met.", by=directors.safety)

    def person(self, role):
        if role == "safety_director":
            return self.directors.safety
        if role == "operations_director":
            return self.directors.operations
        return getattr(self.city, role)


def snapshot():
    return (
        sorted(RetentionExtension.objects.values_list("pk", "status", "decided_by", "decision_reason", "ended_at",
                                                          "end_reason")),
        RetentionExtension.systems.through.objects.count(),
        OutgoingEmail.objects.count(),
    )


def _new_data(w):
    today = timezone.localdate()
    return {"systems": [w.city.vms.pk], "condition": "b", "justification": "Recurring thefts.",
            "retention_days": "90", "area": "", "starts_on": today, "ends_on": today + timedelta(days=30),
            "review_on": today + timedelta(days=10)}


# The auditor (oversight) reads every extension and changes nothing.
SEES_ALL = {"itsa": "ok", "designee": "ok", "safety_director": "ok", "operations_director": "ok", "auditor": "ok"}
NOBODY_ELSE = {"head": "404", "requester": "404", "officer": "404", "outsider": "404"}

CASES = [
    url_case("retention:list", "get", lambda w: {}, {**SEES_ALL, "head": "ok", "outsider": "ok", "requester": "404",
                                                     "officer": "404"}),
    url_case("retention:new", "get", lambda w: {}, {
        "head": "ok", "outsider": "ok", "itsa": "ok", "requester": "404", "officer": "404", "designee": "404",
        "safety_director": "404", "operations_director": "404", "auditor": "404"}),
    # The streets head may ask, but not for the police's VMS: the form refuses the choice.
    url_case("retention:new", "post", lambda w: {}, {
        "head": "ok", "itsa": "ok", "outsider": "refused", "requester": "404", "officer": "404", "designee": "404",
        "safety_director": "404", "operations_director": "404", "auditor": "404"}, data=_new_data),
    url_case("retention:detail", "get", lambda w: {"pk": w.requested.pk}, {**SEES_ALL, **NOBODY_ELSE, "head": "ok"}),
    url_case("retention:detail", "get", lambda w: {"pk": w.granted.pk}, {**SEES_ALL, **NOBODY_ELSE}),
    # Only the Director of Public Safety decides; the head who asked sees it and is refused.
    url_case("retention:decide", "post", lambda w: {"pk": w.requested.pk}, {
        **NOBODY_ELSE, "head": "refused", "itsa": "refused", "designee": "refused", "operations_director": "refused",
        "auditor": "refused", "safety_director": "ok"}, data=lambda w: {"decision": "grant", "reason": "High crime."}),
    url_case("retention:end", "post", lambda w: {"pk": w.granted.pk}, {
        **NOBODY_ELSE, "itsa": "refused", "designee": "refused", "operations_director": "refused",
        "auditor": "refused", "safety_director": "ok"}, data=lambda w: {"reason": "No longer needed."}),
]


CELLS = [
    pytest.param(case, role, id=f"{case['method'].upper()} {case['name']} #{index} as {role}")
    for index, case in enumerate(CASES)
    for role in ROLES
]


def _login(client, world, role):
    if role != "anonymous":
        client.force_login(world.person(role))


# One world for the module (conftest.module_world): each test runs in a savepoint of it.
def build_world():
    return World(build_city(), make_directors())


@pytest.mark.parametrize(("case", "role"), CELLS)
def test_each_role_gets_exactly_what_the_retention_matrix_says(case, role, city, world):
    """S3.11: every decision names its decider, never the person who asked."""
    client = signed_in_client()
    _login(client, world, role)
    check_cell(client, case, role, world, snapshot)


FORM_PAGES = {c["name"] for c in CASES if c["method"] == "get"}


@pytest.mark.parametrize("case", [c for c in CASES if c["method"] == "post" and c["name"] not in FORM_PAGES],
                         ids=lambda c: c["name"])
def test_retention_state_changes_answer_get_with_405(case, city, world):
    """S3.11"""
    client = signed_in_client()
    _login(client, world, "safety_director")
    before = snapshot()
    assert client.get(reverse(case["name"], kwargs=case["kwargs"](world))).status_code == 405
    assert snapshot() == before


class _AnyObject:
    """Stands in for the world to learn which URL arguments a case takes."""

    pk = 1

    def __getattr__(self, name):
        return self


@pytest.mark.parametrize("case", [c for c in CASES if c["kwargs"](_AnyObject())],
                         ids=lambda c: f"{c['method']} {c['name']}")
def test_unknown_retention_ids_answer_404(case, city, world):
    """S3.11"""
    client = signed_in_client()
    _login(client, world, "safety_director")
    url = reverse(case["name"], kwargs={key: 987654 for key in case["kwargs"](world)})
    response = client.get(url) if case["method"] == "get" else client.post(url, case["data"](world))
    assert response.status_code == 404


def test_retention_state_changes_need_a_csrf_token(city, world):
    """S3.11"""
    client = signed_in_client(enforce_csrf_checks=True)
    _login(client, world, "safety_director")
    before = snapshot()
    response = client.post(reverse("retention:decide", kwargs={"pk": world.requested.pk}),
                           {"decision": "grant", "reason": "High crime."})
    assert response.status_code == 403
    assert snapshot() == before
