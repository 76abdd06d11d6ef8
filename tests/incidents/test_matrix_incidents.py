"""The incident pages (S5.2) × every role: who gets the page, who gets 404, who is refused.

The officer reported two incidents about the analyst (who holds an end-user grant on the VMS), one
under their name, one anonymously; the Mayor's designee reported a third anonymously. The analyst,
the person concerned, is a role here too: an incident about them does not exist for them. The
auditor (oversight) reads every case file and changes nothing.
"""

import pytest
from conftest import build_city, signed_in_client
from matrix import check_cell, url_case
from django.db import transaction
from django.urls import reverse

from accounts.models import Grant
from accounts.services import grant_open
from incidents.services import incident_report
from incidents.models import Incident

ROLES = ["anonymous", "head", "requester", "officer", "outsider", "itsa", "designee", "analyst", "auditor"]


class World:
    def __init__(self, city):
        self.city = city
        with transaction.atomic():
            self.grant = grant_open(person=city.analyst, system=city.vms, department=city.police, role="end_user",
                                    account_name="andy-vms", permissible_uses=[city.crime_detection], by=city.itsa)

        def report(by, anonymous):
            return incident_report(nature=Incident.Nature.ABUSE, description="Browsed footage of a private home.",
                                   person=city.analyst, system=city.vms, anonymous=anonymous, by=by)

        self.named = report(city.officer, False)
        self.anonymous = report(city.officer, True)
        self.by_designee = report(city.designee, True)


def snapshot():
    return (
        sorted(Incident.objects.values_list("pk", "status", "suspended_by", "closed_by", "corrective_action")),
        sorted(Incident.suspended_grants.through.objects.values_list("incident_id", "grant_id")),
        sorted(Grant.objects.values_list("pk", "status")),
    )


EVERYONE = {role: "ok" for role in ROLES if role != "anonymous"}
NOBODY = {role: "404" for role in ROLES if role != "anonymous"}
CASE_FILE = {**NOBODY, "itsa": "ok", "designee": "ok", "auditor": "ok"}
CASE_FILE_DECIDED = {**CASE_FILE, "auditor": "refused"}  # oversight reads, never decides


def _report_data(w):
    return {"nature": "abuse", "description": "Watched a neighbour's home.", "person": w.city.analyst.pk,
            "system": w.city.vms.pk, "anonymous": "on"}


def _close_data(w):
    return {"corrective_action": "Written warning and retraining."}


CASES = [
    url_case("incidents:list", "get", lambda w: {}, EVERYONE),
    url_case("incidents:new", "get", lambda w: {}, EVERYONE),
    # Anyone signed in reports misuse (S5.2), the auditor too: oversight changes none of the records it
    # reads, and reporting the misuse it finds is what it is for. The person concerned cannot report
    # themselves.
    url_case("incidents:new", "post", lambda w: {}, {**EVERYONE, "analyst": "refused"}, data=_report_data),
    # A named report: the case file for ITSA and the designee, the report for its reporter.
    url_case("incidents:detail", "get", lambda w: {"pk": w.named.pk}, {**CASE_FILE, "officer": "ok"}),
    # An anonymous report is nobody's: not even its reporter opens it.
    url_case("incidents:detail", "get", lambda w: {"pk": w.anonymous.pk}, CASE_FILE),
    url_case("incidents:suspend", "post", lambda w: {"pk": w.named.pk}, {**CASE_FILE_DECIDED, "officer": "refused"},
             data=lambda w: {"reason": "Good-faith complaint."}),
    # The designee reported this one anonymously: the digest keeps them from deciding on it.
    url_case("incidents:suspend", "post", lambda w: {"pk": w.by_designee.pk},
             {**CASE_FILE_DECIDED, "designee": "refused"}),
    url_case("incidents:close", "post", lambda w: {"pk": w.named.pk},
             {**CASE_FILE_DECIDED, "itsa": "refused", "officer": "refused"}, data=_close_data),
    url_case("incidents:close", "post", lambda w: {"pk": w.by_designee.pk},
             {**CASE_FILE_DECIDED, "itsa": "refused", "designee": "refused"}, data=_close_data),
]


CELLS = [
    pytest.param(case, role, id=f"{case['method'].upper()} {case['name']} #{index} as {role}",
                 marks=case.get("marks", {}).get(role, ()))
    for index, case in enumerate(CASES)
    for role in ROLES
]


def _login(client, city, role):
    if role != "anonymous":
        client.force_login(getattr(city, role))


# One world for the module (conftest.module_world): each test runs in a savepoint of it.
def build_world():
    return World(build_city())


@pytest.mark.parametrize(("case", "role"), CELLS)
def test_each_role_gets_exactly_what_the_incident_matrix_says(case, role, city, world):
    """S5.2"""
    client = signed_in_client()
    _login(client, city, role)
    check_cell(client, case, role, world, snapshot)


FORM_PAGES = {c["name"] for c in CASES if c["method"] == "get"}


@pytest.mark.parametrize("case", [
    pytest.param(c, id=f"{c['name']} #{index}") for index, c in enumerate(CASES)
    if c["method"] == "post" and c["name"] not in FORM_PAGES
])
def test_incident_decisions_answer_get_with_405(case, city, world):
    """S5.2: state changes are POST only."""
    client = signed_in_client()
    client.force_login(city.designee if case["expect"].get("designee") == "ok" else city.itsa)
    response = client.get(reverse(case["name"], kwargs=case["kwargs"](world)))
    assert response.status_code == 405


@pytest.mark.parametrize("name", ["incidents:detail", "incidents:suspend", "incidents:close"])
def test_unknown_incidents_answer_404(name, city):
    """S5.2"""
    client = signed_in_client()
    client.force_login(city.designee)
    method = client.get if name == "incidents:detail" else client.post
    assert method(reverse(name, kwargs={"pk": 987654})).status_code == 404


def test_incident_decisions_need_a_csrf_token(city, world):
    """S5.2"""
    client = signed_in_client(enforce_csrf_checks=True)
    client.force_login(city.designee)
    before = snapshot()
    response = client.post(reverse("incidents:suspend", kwargs={"pk": world.named.pk}))
    assert response.status_code == 403
    assert snapshot() == before
