"""Every URL of the oversight appointment pages × every role, as in tests/test_permission_matrix.py.

Each cell says what the role gets: "ok" (the page, or the change is made), "404" (the appointment or
the page does not exist for them), "login" (anonymous: sent to sign in), "refused" (they see the
appointment but the service refuses the change: nothing in the database changes). ITSA asks, the
Mayor's designee decides (never a request they made), ITSA withdraws a request nobody decided, ITSA or
the designee ends an appointment; an appointed person sees their own appointment and changes nothing.

The auditor reads for oversight under an active appointment; the appointee waits for the designee.
"""

import pytest
from conftest import build_city, signed_in_client
from matrix import check_cell, url_case
from django.urls import reverse

from accounts.models import OVERSIGHT_GROUP, User
from security.models import OversightAppointment
from security.oversight import oversight_decide, oversight_propose

ROLES = ["anonymous", "head", "requester", "officer", "outsider", "itsa", "itsa2", "designee", "auditor",
         "appointee"]


class World:
    """The auditor's appointment, active (ITSA asked, the designee approved); the appointee's, still
    awaiting the designee; and a person nobody has asked for yet, for ITSA to ask for."""

    def __init__(self, city):
        self.city = city
        self.appointee = User.objects.create_user(email="paula@audit.city.example", full_name="Paula Pending",
                                                  password="a long enough passphrase 1")
        self.newcomer = User.objects.create_user(email="nina@audit.city.example", full_name="Nina Newcomer",
                                                 password="a long enough passphrase 1")
        self.active = oversight_decide(
            appointment=self._ask(city.auditor), approve=True, reason="Audit plan.", by=city.designee)
        self.proposed = self._ask(self.appointee)

    def _ask(self, person):
        return oversight_propose(person=person, body="Office of the Internal Auditor",
                                 purpose="The yearly audit of surveillance access.", by=self.city.itsa)

    def person(self, role):
        return self.appointee if role == "appointee" else getattr(self.city, role)


def snapshot():
    return (
        sorted(OversightAppointment.objects.values_list("pk", "status", "decided_by", "ended_by")),
        sorted(User.objects.filter(groups__name=OVERSIGHT_GROUP).values_list("pk", flat=True)),
    )


def _new_data(w):
    return {"person": w.newcomer.pk, "body": "Civilian Oversight Board", "purpose": "A review of plate readers.",
            "ends_on": ""}


NOBODY = {role: "404" for role in ROLES if role != "anonymous"}
CITY = {**NOBODY, "itsa": "ok", "itsa2": "ok", "designee": "ok"}
# An appointed person sees their own appointment, and changes nothing on it.
ACTIVE = {**CITY, "auditor": "ok"}
PROPOSED = {**CITY, "appointee": "ok"}

CASES = [
    url_case("security:oversight_list", "get", lambda w: {}, CITY),
    # The designee opens the form's page but only ITSA asks.
    url_case("security:oversight_new", "post", lambda w: {}, {**CITY, "designee": "refused"}, data=_new_data),
    url_case("security:oversight", "get", lambda w: {"pk": w.active.pk}, ACTIVE),
    url_case("security:oversight", "get", lambda w: {"pk": w.proposed.pk}, PROPOSED),
    # ITSA asked: another person, the designee, decides; the appointee does not decide on themselves.
    url_case("security:oversight_decide", "post", lambda w: {"pk": w.proposed.pk},
             {**PROPOSED, "itsa": "refused", "itsa2": "refused", "appointee": "refused"},
             data=lambda w: {"decision": "approve", "reason": "Audit plan."}),
    url_case("security:oversight_withdraw", "post", lambda w: {"pk": w.proposed.pk},
             {**PROPOSED, "designee": "refused", "appointee": "refused"}),
    # Taking read access away waits for nobody: ITSA or the designee; never the auditor themself.
    url_case("security:oversight_end", "post", lambda w: {"pk": w.active.pk}, {**ACTIVE, "auditor": "refused"},
             data=lambda w: {"reason": "The audit is finished."}),
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
    return World(build_city())


@pytest.mark.parametrize(("case", "role"), CELLS)
def test_each_role_gets_exactly_what_the_oversight_matrix_says(case, role, city, world):
    """S3.2a: the auditor reads and changes nothing, not even their own appointment; ITSA asks and the
    designee decides, never the one who asked."""
    client = signed_in_client()
    _login(client, world, role)
    check_cell(client, case, role, world, snapshot)


FORM_PAGES = {c["name"] for c in CASES if c["method"] == "get"}


@pytest.mark.parametrize("case", [c for c in CASES if c["method"] == "post" and c["name"] not in FORM_PAGES],
                         ids=lambda c: c["name"])
def test_oversight_changes_answer_get_with_405(case, city, world):
    client = signed_in_client()
    _login(client, world, "itsa")
    before = snapshot()
    assert client.get(reverse(case["name"], kwargs=case["kwargs"](world))).status_code == 405
    assert snapshot() == before


@pytest.mark.parametrize("case", [c for c in CASES if c["name"] not in ("security:oversight_list",
                                                                        "security:oversight_new")],
                         ids=lambda c: f"{c['method']} {c['name']}")
def test_unknown_appointments_answer_404(case, city, world):
    client = signed_in_client()
    _login(client, world, "designee")
    url = reverse(case["name"], kwargs={"pk": 987654})
    response = client.get(url) if case["method"] == "get" else client.post(url, case["data"](world)
                                                                           if case["data"] else {})
    assert response.status_code == 404


def test_oversight_changes_need_a_csrf_token(city, world):
    client = signed_in_client(enforce_csrf_checks=True)
    _login(client, world, "designee")
    before = snapshot()
    response = client.post(reverse("security:oversight_decide", kwargs={"pk": world.proposed.pk}),
                           {"decision": "approve", "reason": "Audit plan."})
    assert response.status_code == 403
    assert snapshot() == before
