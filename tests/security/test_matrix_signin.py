"""Every URL of first sign-in and recovery × every role, as in tests/test_permission_matrix.py.

The set-password pages (with a link's token) and "Forgot your password?" are public: everyone,
anonymous too, reaches them. Sending an invitation and resetting an authenticator are ITSA's: for
everyone else the pages do not exist (404), and ITSA never resets their own authenticator.
"""

import pytest
from conftest import build_city, pass_second_factor, signed_in_client
from matrix import check_cell, url_case
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from portal.models import AuditEvent, OutgoingEmail
from security import invitations

ROLES = ["anonymous", "head", "requester", "officer", "outsider", "itsa", "itsa2", "designee", "auditor"]


class World:
    """A newcomer with no password yet (to invite), and the officer, who has a password and an
    authenticator (to reset); ITSA's own authenticator, which only another ITSA administrator resets."""

    def __init__(self, city):
        self.city = city
        self.newcomer = User.objects.create_user(email="nora@police.example", full_name="Nora Newcomer")
        TOTPDevice.objects.create(user=city.officer, name="Authenticator app", confirmed=True)
        TOTPDevice.objects.get_or_create(user=city.itsa, confirmed=True, defaults={"name": "Authenticator app"})


def _link_kwargs(person, kind):
    link = invitations.link_for(person, kind)
    uidb64, token = link.rstrip("/").split("/")[-2:]
    return {"uidb64": uidb64, "token": token}


def snapshot():
    return (
        sorted(User.objects.values_list("pk", "password")),
        sorted(TOTPDevice.objects.values_list("pk", flat=True)),
        OutgoingEmail.objects.count(),
        AuditEvent.objects.filter(action__in=["password_reset.request", "invitation.send",
                                              "authenticator.reset"], outcome="success").count(),
    )


EVERYONE = {role: "ok" for role in ROLES}
ITSA = {**{role: "404" for role in ROLES if role != "anonymous"}, "itsa": "ok", "itsa2": "ok"}
NEW_PASSWORD = {"new_password1": "a brand new long passphrase", "new_password2": "a brand new long passphrase"}

CASES = [
    url_case("security:forgot_password", "get", lambda w: {}, EVERYONE),
    url_case("security:forgot_password", "post", lambda w: {}, EVERYONE,
             data=lambda w: {"email": w.city.officer.email}),
    url_case("security:set_password", "get", lambda w: _link_kwargs(w.newcomer, invitations.INVITATION), EVERYONE),
    url_case("security:set_password", "post", lambda w: _link_kwargs(w.newcomer, invitations.INVITATION), EVERYONE,
             data=lambda w: NEW_PASSWORD),
    url_case("security:reset_password", "get", lambda w: _link_kwargs(w.city.analyst, invitations.RESET), EVERYONE),
    url_case("security:reset_password", "post", lambda w: _link_kwargs(w.city.analyst, invitations.RESET), EVERYONE,
             data=lambda w: NEW_PASSWORD),
    url_case("security:invite", "post", lambda w: {"pk": w.newcomer.pk}, ITSA),
    url_case("security:authenticator_reset", "post", lambda w: {"pk": w.city.officer.pk}, ITSA),
    # Never one's own: the other ITSA administrator does it.
    url_case("security:authenticator_reset", "post", lambda w: {"pk": w.city.itsa.pk}, {**ITSA, "itsa": "refused"}),
]

CELLS = [
    pytest.param(case, role, id=f"{case['method'].upper()} {case['name']} #{index} as {role}")
    for index, case in enumerate(CASES)
    for role in ROLES
]


def build_world():
    return World(build_city())


@pytest.mark.parametrize(("case", "role"), CELLS)
def test_each_role_gets_exactly_what_the_sign_in_matrix_says(case, role, city, world):
    """S3.5b: only ITSA invites people and resets their authenticators; S3.10: the pages that set a
    password from a mailed link are public, and work for anyone holding the link."""
    client = signed_in_client()
    if role != "anonymous":
        client.force_login(getattr(world.city, role))
        if role == "officer":  # has an authenticator, and has passed it
            pass_second_factor(client, world.city.officer)
    check_cell(client, case, role, world, snapshot)


@pytest.mark.parametrize("name", ["security:invite", "security:authenticator_reset"])
def test_itsa_actions_answer_get_with_405(name, city, world):
    client = signed_in_client()
    client.force_login(world.city.itsa)
    assert client.get(reverse(name, kwargs={"pk": world.city.officer.pk})).status_code == 405


@pytest.mark.parametrize("name", ["security:invite", "security:authenticator_reset"])
def test_unknown_people_answer_404(name, city, world):
    client = signed_in_client()
    client.force_login(world.city.itsa)
    assert client.post(reverse(name, kwargs={"pk": 987654})).status_code == 404
