"""Every URL of the KPI pages (Section 2.5) × every role.

Each cell says what the role gets: "ok" (the page, or the change is made), "404" (the KPI or the page
does not exist for them), "login" (anonymous: sent to sign in), "refused" (they see the KPI but the
service refuses the change: nothing in the database changes). The police's head and authorized
requester, ITSA and the Mayor's designee see the police's KPIs; the head and the requester propose
them and record their figures, only the designee decides them (S2.5a), only the head states the
impact (S2.5d), and nobody decides a KPI they proposed.
"""

from datetime import datetime
from functools import cached_property

import pytest
from conftest import build_city, signed_in_client
from matrix import check_cell, url_case
from django.urls import reverse
from django.utils import timezone

from kpis import services as kpi_services
from kpis.models import ImpactStatement, Kpi, KpiFigure
from portal.models import IntendedUse

ROLES = ["anonymous", "head", "requester", "officer", "outsider", "itsa", "designee", "auditor"]
LAST_YEAR = timezone.localdate().year - 1


class World:
    """The police's KPIs, one in each state, and one of the streets department (the outsider's own).
    build_world() makes them all before the first test."""

    def __init__(self, city):
        self.city = city

    @cached_property
    def public_safety(self):
        return IntendedUse.objects.get(code="public-safety")

    @cached_property
    def traffic_management(self):
        return IntendedUse.objects.get(code="traffic-management")

    def _propose(self, name, *, by=None):
        return kpi_services.kpi_propose(
            department=self.city.police, system=self.city.vms, intended_use=self.public_safety, name=name,
            measure="From the case files.", unit="vehicles", direction="higher", target="40",
            by=by or self.city.head)

    def _approve(self, kpi):
        kpi = kpi_services.kpi_decide(kpi=kpi, approve=True, reason="Clear.", by=self.city.designee)
        # Approved last year, so that last year's figures are due.
        Kpi.objects.filter(pk=kpi.pk).update(decided_at=timezone.make_aware(datetime(LAST_YEAR, 2, 1)))
        kpi.refresh_from_db()
        return kpi

    @cached_property
    def proposed(self):
        return self._propose("Proposed")

    @cached_property
    def proposed_by_requester(self):
        return self._propose("Proposed by the requester", by=self.city.requester)

    @cached_property
    def approved(self):
        return self._approve(self._propose("Approved"))

    @cached_property
    def with_figure(self):
        kpi = self._approve(self._propose("With a figure"))
        kpi_services.figure_record(kpi=kpi, year=LAST_YEAR, value="41", by=self.city.head)
        return kpi

    @cached_property
    def streets_kpi(self):
        city = self.city
        return kpi_services.kpi_propose(
            department=city.streets, system=city.traffic, intended_use=self.traffic_management,
            name="Minutes of delay", measure="Signal logs.", unit="minutes", direction="lower", target="5",
            by=city.outsider)


def snapshot():
    return (
        sorted(Kpi.objects.values_list("pk", "status", "decided_by", "retired_at")),
        sorted(KpiFigure.objects.values_list("kpi", "year", "value")),
        sorted(ImpactStatement.objects.values_list("department", "system", "intended_use", "year", "verdict")),
    )


def _impact_kwargs(w):
    return {"department": w.city.police.pk, "system": w.city.vms.pk, "use": w.public_safety.pk, "year": LAST_YEAR}


def _new_kpi_data(w):
    return {"use": f"{w.city.police.pk}-{w.city.vms.pk}-{w.public_safety.pk}", "name": "Cases solved",
            "measure": "From the case files.", "unit": "cases", "direction": "higher", "target": "12"}


LOGGED_IN = {role: "ok" for role in ROLES if role != "anonymous"}
PROPOSERS = {"head": "ok", "requester": "ok", "outsider": "ok", "officer": "404", "itsa": "404", "designee": "404",
             "auditor": "404"}
# Oversight (the auditor) reads every department's KPIs and changes none.
POLICE_KPI = {"head": "ok", "requester": "ok", "itsa": "ok", "designee": "ok", "auditor": "ok", "officer": "404",
              "outsider": "404"}
STREETS_KPI = {"outsider": "ok", "itsa": "ok", "designee": "ok", "auditor": "ok", "head": "404", "requester": "404",
               "officer": "404"}
DESIGNEE_DECIDES = {**POLICE_KPI, "head": "refused", "requester": "refused", "itsa": "refused", "auditor": "refused"}
DEPARTMENT_RECORDS = {**POLICE_KPI, "itsa": "refused", "designee": "refused", "auditor": "refused"}
HEAD_OR_DESIGNEE = {**POLICE_KPI, "requester": "refused", "itsa": "refused", "auditor": "refused"}
PROPOSER_OR_HEAD = {**POLICE_KPI, "itsa": "refused", "designee": "refused", "auditor": "refused"}
HEAD_STATES = {**POLICE_KPI, "requester": "refused", "itsa": "refused", "designee": "refused", "auditor": "refused"}

CASES = [
    url_case("kpis:list", "get", lambda w: {}, LOGGED_IN),
    url_case("kpis:new", "get", lambda w: {}, PROPOSERS),
    # The outsider's form does not offer the police's system and use: the form refuses it.
    url_case("kpis:new", "post", lambda w: {}, {**PROPOSERS, "outsider": "refused"}, data=_new_kpi_data),
    url_case("kpis:detail", "get", lambda w: {"pk": w.proposed.pk}, POLICE_KPI),
    url_case("kpis:detail", "get", lambda w: {"pk": w.streets_kpi.pk}, STREETS_KPI),
    url_case("kpis:decide", "post", lambda w: {"pk": w.proposed.pk}, DESIGNEE_DECIDES,
             data=lambda w: {"decision": "approve", "reason": "A clear measure."}),
    url_case("kpis:withdraw", "post", lambda w: {"pk": w.proposed_by_requester.pk}, PROPOSER_OR_HEAD,
             data=lambda w: {"reason": ""}),
    url_case("kpis:retire", "post", lambda w: {"pk": w.approved.pk}, HEAD_OR_DESIGNEE,
             data=lambda w: {"reason": "Replaced."}),
    url_case("kpis:figure", "post", lambda w: {"pk": w.approved.pk}, DEPARTMENT_RECORDS,
             data=lambda w: {"year": str(LAST_YEAR), "value": "38", "note": ""}),
    url_case("kpis:impact", "get", _impact_kwargs, POLICE_KPI),
    url_case("kpis:impact", "post", _impact_kwargs, HEAD_STATES,
             data=lambda w: {"verdict": "positive", "explanation": "Both targets met."}),
]


def _login(client, world, role):
    if role != "anonymous":
        client.force_login(getattr(world.city, role))


CELLS = [
    pytest.param(case, role, id=f"{case['method'].upper()} {case['name']} #{index} as {role}")
    for index, case in enumerate(CASES)
    for role in ROLES
]


# One world for the module (conftest.module_world): each test runs in a savepoint of it.
def build_world():
    world = World(build_city())
    # Every KPI made now, once: a lazy one made inside a test would vanish with the test's savepoint.
    for name in ("proposed", "proposed_by_requester", "approved", "with_figure", "streets_kpi"):
        getattr(world, name)
    # Every KPI due last year has its figure, so that the head may state the impact.
    kpi_services.figure_record(kpi=world.approved, year=LAST_YEAR, value="39", by=world.city.head)
    return world


@pytest.mark.parametrize(("case", "role"), CELLS)
def test_each_role_gets_exactly_what_the_kpi_matrix_says(case, role, city, world):
    """S2.5a, S2.5d: who sees, proposes, decides, records and states what."""
    client = signed_in_client()
    _login(client, world, role)
    check_cell(client, case, role, world, snapshot)


FORM_PAGES = {c["name"] for c in CASES if c["method"] == "get"}


@pytest.mark.parametrize("case", [c for c in CASES if c["method"] == "post" and c["name"] not in FORM_PAGES],
                         ids=lambda c: c["name"])
def test_kpi_changes_answer_get_with_405(case, city, world):
    client = signed_in_client()
    _login(client, world, "designee")
    response = client.get(reverse(case["name"], kwargs=case["kwargs"](world)))
    assert response.status_code == 405


@pytest.mark.parametrize("name", ["kpis:detail", "kpis:decide", "kpis:withdraw", "kpis:retire", "kpis:figure"])
def test_unknown_kpis_answer_404(name, city, world):
    client = signed_in_client()
    _login(client, world, "designee")
    url = reverse(name, kwargs={"pk": 987654})
    response = client.get(url) if name == "kpis:detail" else client.post(url, {"reason": "x"})
    assert response.status_code == 404


@pytest.mark.parametrize("year", [1900, LAST_YEAR + 5, 99999999])
def test_impact_pages_of_impossible_years_or_unknown_uses_answer_404(year, city, world):
    client = signed_in_client()
    _login(client, world, "head")
    assert client.get(reverse("kpis:impact", kwargs={**_impact_kwargs(world), "year": year})).status_code == 404
    assert client.get(reverse("kpis:impact", kwargs={**_impact_kwargs(world), "use": 987654})).status_code == 404


def test_kpi_decisions_need_a_csrf_token(city, world):
    client = signed_in_client(enforce_csrf_checks=True)
    _login(client, world, "designee")
    url = reverse("kpis:decide", kwargs={"pk": world.proposed.pk})
    before = snapshot()
    response = client.post(url, {"decision": "approve", "reason": "Ok."})
    assert response.status_code == 403
    assert snapshot() == before
