"""Every URL of the waiver pages (Section 5.1) × every role.

Each cell says what the role gets: "ok" (the page, or the change is made), "404" (the waiver or the
page does not exist for them), "login" (anonymous: sent to sign in), "refused" (they see the waiver
but the service refuses the change: nothing in the database changes). The department's head and
authorized requester, ITSA, the Mayor's designee, the two directors and the auditor (oversight, who
changes nothing) see the police's waivers;
only the directors decide and revoke (S5.1a), only the designee records the Mayor's decision
(S5.1b), and nobody decides a waiver they asked for.
"""

from functools import cached_property

import pytest
from conftest import build_city, make_directors, provisioned, signed_in_client
from matrix import check_cell, url_case
from django.urls import reverse
from django.utils import timezone

from accounts.models import Grant
from waivers import services as waiver_services
from waivers.models import Waiver
from portal.models import IntendedUse

ROLES = ["anonymous", "head", "requester", "officer", "outsider", "itsa", "designee", "safety_director",
         "operations_director", "auditor"]


class World:
    """The police's waivers, one in each state, and one of the streets department (the outsider's
    own). build_world() makes them all before the first test."""

    def __init__(self, city):
        self.city = city
        self.directors = make_directors()

    @cached_property
    def public_safety(self):
        return IntendedUse.objects.get(code="public-safety")

    @cached_property
    def grant(self):
        return provisioned(self.city).grant  # the officer's end-user grant on the VMS

    def _ask(self, *, days=3, deviation="Wider coverage around the stadium.", permissible_use=None):
        return waiver_services.waiver_request(
            department=self.city.police, intended_use=self.public_safety, permissible_use=permissible_use,
            deviation=deviation, basis="safety", justification="A crowd of 60,000.", grants=[self.grant],
            starts_on=timezone.localdate(), days=days, by=self.city.head,
        )

    @cached_property
    def requested(self):
        return self._ask()

    @cached_property
    def awaiting_mayor(self):
        return waiver_services.waiver_decide(waiver=self._ask(days=45, deviation="Road works."), grant=True,
                                     reason="Long works.", by=self.directors.safety)

    @cached_property
    def granted(self):
        # A permissible use of its own: on the same use and grant it would chain with the 45-day
        # waiver and wait for the Mayor too (S5.1c).
        return waiver_services.waiver_decide(
            waiver=self._ask(deviation="Parade.", permissible_use=self.city.crime_detection), grant=True,
            reason="Parade.", by=self.directors.safety)

    @cached_property
    def streets_waiver(self):
        city = self.city
        grant = Grant.objects.create(
            person=city.streets_worker, system=city.traffic, department=city.streets, role="end_user",
            account_name="wworker", provisioned_at=timezone.now(), provisioned_by=city.itsa)
        return waiver_services.waiver_request(
            department=city.streets, intended_use=IntendedUse.objects.get(code="traffic-management"),
            deviation="Watch the marathon route.", basis="life", justification="Runners' safety.", grants=[grant],
            starts_on=timezone.localdate(), days=1, by=city.outsider,
        )


def snapshot():
    return (
        sorted(Waiver.objects.values_list("pk", "status", "decided_by", "mayor_recorded_by", "ended_by",
                                          "substantive_change")),
        Waiver.grants.through.objects.count(),
    )


def _new_waiver_data(w):
    return {"department": w.city.police.pk, "intended_use": w.public_safety.pk, "permissible_use": "",
            "deviation": "Cameras at the fair.", "basis": "safety", "justification": "Crowds.",
            "grants": [w.grant.pk], "starts_on": timezone.localdate().isoformat(), "days": "2"}


LOGGED_IN = {role: "ok" for role in ROLES if role != "anonymous"}
DIRECTORS = {"safety_director": "ok", "operations_director": "ok"}
ASKERS = {**DIRECTORS, "head": "ok", "outsider": "ok", "requester": "404", "officer": "404", "itsa": "404",
          "designee": "404", "auditor": "404"}
POLICE_WAIVER = {**DIRECTORS, "head": "ok", "requester": "ok", "itsa": "ok", "designee": "ok", "auditor": "ok",
                 "officer": "404", "outsider": "404"}
STREETS_WAIVER = {**DIRECTORS, "outsider": "ok", "itsa": "ok", "designee": "ok", "auditor": "ok", "head": "404",
                  "requester": "404", "officer": "404"}
DIRECTORS_DECIDE = {**POLICE_WAIVER, "head": "refused", "requester": "refused", "itsa": "refused",
                    "designee": "refused", "auditor": "refused"}
DESIGNEE_RECORDS = {**POLICE_WAIVER, "head": "refused", "requester": "refused", "itsa": "refused",
                    "safety_director": "refused", "operations_director": "refused", "auditor": "refused"}

CASES = [
    url_case("waivers:list", "get", lambda w: {}, LOGGED_IN),
    url_case("waivers:new", "get", lambda w: {}, ASKERS),
    url_case("waivers:new", "post", lambda w: {}, {**ASKERS, "outsider": "refused"}, data=_new_waiver_data),
    url_case("waivers:detail", "get", lambda w: {"pk": w.requested.pk}, POLICE_WAIVER),
    url_case("waivers:detail", "get", lambda w: {"pk": w.streets_waiver.pk}, STREETS_WAIVER),
    url_case("waivers:decide", "post", lambda w: {"pk": w.requested.pk}, DIRECTORS_DECIDE,
             data=lambda w: {"decision": "grant", "reason": "For the event."}),
    url_case("waivers:mayor", "post", lambda w: {"pk": w.awaiting_mayor.pk}, DESIGNEE_RECORDS,
             data=lambda w: {"decision": "approve", "decided_on": timezone.localdate().isoformat()}),
    url_case("waivers:revoke", "post", lambda w: {"pk": w.granted.pk}, {**DIRECTORS_DECIDE},
             data=lambda w: {"reason": "Event cancelled."}),
]


def _login(client, world, role):
    if role == "anonymous":
        return
    person = {"safety_director": world.directors.safety, "operations_director": world.directors.operations}.get(role)
    client.force_login(person or getattr(world.city, role))


CELLS = [
    pytest.param(case, role, id=f"{case['method'].upper()} {case['name']} #{index} as {role}")
    for index, case in enumerate(CASES)
    for role in ROLES
]


# One world for the module (conftest.module_world): each test runs in a savepoint of it.
def build_world():
    world = World(build_city())
    # Every waiver made now, once: a lazy one made inside a test would vanish with the test's savepoint.
    for name in ("grant", "requested", "awaiting_mayor", "granted", "streets_waiver"):
        getattr(world, name)
    return world


@pytest.mark.parametrize(("case", "role"), CELLS)
def test_each_role_gets_exactly_what_the_waiver_matrix_says(case, role, city, world):
    client = signed_in_client()
    _login(client, world, role)
    check_cell(client, case, role, world, snapshot)


FORM_PAGES = {c["name"] for c in CASES if c["method"] == "get"}


@pytest.mark.parametrize("case", [c for c in CASES if c["method"] == "post" and c["name"] not in FORM_PAGES],
                         ids=lambda c: c["name"])
def test_waiver_changes_answer_get_with_405(case, city, world):
    client = signed_in_client()
    _login(client, world, "designee" if case["name"] == "waivers:mayor" else "operations_director")
    response = client.get(reverse(case["name"], kwargs=case["kwargs"](world)))
    assert response.status_code == 405


@pytest.mark.parametrize("name", ["waivers:detail", "waivers:decide", "waivers:mayor", "waivers:revoke"])
def test_unknown_waivers_answer_404(name, city, world):
    client = signed_in_client()
    _login(client, world, "designee" if name == "waivers:mayor" else "safety_director")
    url = reverse(name, kwargs={"pk": 987654})
    response = client.get(url) if name == "waivers:detail" else client.post(url, {"reason": "x"})
    assert response.status_code == 404


def test_waiver_decisions_need_a_csrf_token(city, world):
    client = signed_in_client(enforce_csrf_checks=True)
    _login(client, world, "safety_director")
    url = reverse("waivers:decide", kwargs={"pk": world.requested.pk})
    before = snapshot()
    response = client.post(url, {"decision": "grant", "reason": "Ok."})
    assert response.status_code == 403
    assert snapshot() == before
