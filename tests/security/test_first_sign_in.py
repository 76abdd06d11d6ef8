"""First sign-in and recovery (issue "Bring a real city in", part 4): invitations to set a first
password, "Forgot your password?", and ITSA's reset of a lost authenticator; each with its refusals
(expired link, used link, tampered link, unknown address, too many requests, one's own authenticator)."""

import io
import re
from datetime import datetime, timedelta

import pytest
from conftest import PASSWORD, messages_of
from django.contrib.auth import SESSION_KEY
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from portal.errors import NotAllowed, RuleViolation
from portal.models import AuditEvent, OutgoingEmail
from security import invitations, services
from security.models import UserSession
from security_helpers import SETUP, redirect_target, sign_in

NEW = "a brand new long passphrase"
FORGOT = reverse("security:forgot_password")


@pytest.fixture
def newcomer(city):
    """An authorized requester with no password and no invitation yet (as after an import that gave
    roles before any invitation went out): the role is given while she still has a password, which is
    then taken away, so that no invitation goes by itself."""
    from accounts.services import authorized_requester_add

    person = User.objects.create_user(email="nora@police.example", full_name="Nora Newcomer",
                                      department=city.police, password="a passphrase to be dropped")
    authorized_requester_add(department=city.police, person=person, by=city.itsa)
    person.set_unusable_password()
    person.save()
    return person


def _link_in(email: OutgoingEmail) -> str:
    [link] = re.findall(r"https?://\S+/(?:set|reset)-password/\S+/", email.body)
    return link[link.index("/accounts/"):]


def _mails_to(person):
    """The person's mails of sign-in (the city's set-up mails the heads about their departments)."""
    return [email for email in OutgoingEmail.objects.order_by("pk") if person.email in email.to
            and any(word in email.subject for word in ("invitation", "password", "authenticator"))]


def _events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("pk").values_list("outcome", "detail"))


def _set(client, path, password=NEW):
    return client.post(path, {"new_password1": password, "new_password2": password})


# --- Invitations ----------------------------------------------------------------------------------

def test_itsa_invites_a_person_with_a_single_use_link_to_set_a_first_password(city, newcomer):
    """S3.5b: ITSA manages the accounts: an invitation carries a link to set a first password."""
    invitations.invitation_send(person=newcomer, by=city.itsa)

    [email] = _mails_to(newcomer)
    assert "Choose your password" in email.body and "7 days" in email.body
    assert _events("invitation.send") == [("success", "link valid 7 days")]
    client = Client()
    assert client.get(_link_in(email)).status_code == 200
    response = _set(client, _link_in(email))
    assert redirect_target(response) == reverse("login")
    newcomer.refresh_from_db()
    assert newcomer.check_password(NEW)
    assert _events("invitation.accept") == [("success", "")]
    assert sign_in(Client(), newcomer.email, NEW).status_code == 302


def test_a_used_invitation_link_is_refused_with_a_clear_page(city, newcomer):
    """S3.10: the link works once: setting the password changes what its token was made of."""
    invitations.invitation_send(person=newcomer, by=city.itsa)
    link = _link_in(_mails_to(newcomer)[0])
    _set(Client(), link)

    again = Client().get(link)
    assert again.status_code == 400 and "already been used" in again.content.decode()
    response = _set(Client(), link, "another long passphrase 2")
    assert response.status_code == 400
    newcomer.refresh_from_db()
    assert newcomer.check_password(NEW)
    assert _events("invitation.accept")[-1] == ("refused", "invalid link")


def test_an_invitation_link_expires_after_invitation_days(city, newcomer, settings, monkeypatch):
    """S3.10: an invitation is valid INVITATION_DAYS, then refused."""
    settings.INVITATION_DAYS = 3
    invitations.invitation_send(person=newcomer, by=city.itsa)
    link = _link_in(_mails_to(newcomer)[0])
    monkeypatch.setattr(invitations.TOKENS[invitations.INVITATION], "_now",
                        lambda: datetime.now() + timedelta(days=3, hours=1))

    response = _set(Client(), link)

    assert response.status_code == 400 and "expired" in response.content.decode()
    newcomer.refresh_from_db()
    assert not newcomer.has_usable_password()
    assert _events("invitation.accept") == [("refused", "expired link")]
    with pytest.raises(RuleViolation, match="expired"):
        invitations.password_set_from_link(person=newcomer, token=link.split("/")[-2],
                                           kind=invitations.INVITATION, password=NEW)


@pytest.mark.parametrize("path", [
    "/accounts/set-password/MQ/abc-def/", "/accounts/set-password/%%%/x/", "/accounts/set-password/OTk5OTk5/1-2/",
    "/accounts/set-password/OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5/1-2/",
    "/accounts/set-password/" + "A" * 300 + "/" + "9" * 300 + "-x/", "/accounts/reset-password/MQ/zz-zz/",
])
def test_tampered_links_get_a_clear_page_never_a_server_error(path, city):
    """S3.10"""
    client = Client(raise_request_exception=False)
    assert client.get(path).status_code == 400
    assert _set(client, path).status_code == 400


def test_an_invitation_link_does_not_open_the_reset_page(city, newcomer):
    """S3.10: each kind of link has its own key; one cannot stand in for the other."""
    invitations.invitation_send(person=newcomer, by=city.itsa)
    link = _link_in(_mails_to(newcomer)[0]).replace("/set-password/", "/reset-password/")
    assert Client().get(link).status_code == 400


def test_a_weak_password_is_refused_by_the_password_rules(city, newcomer):
    invitations.invitation_send(person=newcomer, by=city.itsa)
    response = _set(Client(), _link_in(_mails_to(newcomer)[0]), "short")
    assert response.status_code == 200 and "usa-error-message" in response.content.decode()
    newcomer.refresh_from_db()
    assert not newcomer.has_usable_password()


def test_a_role_that_needs_a_second_factor_sets_one_up_at_the_first_sign_in(city):
    """S3.10: the invitation says so, and the first sign-in goes to the authenticator set-up."""
    head = User.objects.create_user(email="new.head@police.example", full_name="New Head", department=city.police)
    from accounts.services import department_set_head

    department_set_head(department=city.police, head=head, by=city.itsa)
    invitations.invitation_send(person=head, by=city.itsa)
    email = _mails_to(head)[-1]
    assert "second factor" in email.body
    _set(Client(), _link_in(email))
    client = Client()
    sign_in(client, head.email, NEW)
    assert redirect_target(client.get(reverse("home"))) == SETUP


def test_only_itsa_sends_invitations(city, newcomer):
    """S3.5b"""
    with pytest.raises(NotAllowed):
        invitations.invitation_send(person=newcomer, by=city.head)
    assert _mails_to(newcomer) == []
    assert _events("invitation.send") == [("denied", "not ITSA")]


def test_no_invitation_for_a_person_who_has_a_password_or_is_deactivated(city):
    with pytest.raises(RuleViolation, match="already has a password"):
        invitations.invitation_send(person=city.officer, by=city.itsa)
    city.analyst.set_unusable_password()
    city.analyst.is_active = False
    city.analyst.save()
    with pytest.raises(RuleViolation, match="deactivated"):
        invitations.invitation_send(person=city.analyst, by=city.itsa)
    assert OutgoingEmail.objects.filter(subject__icontains="invitation").count() == 0


def test_with_the_city_sign_in_the_invitation_says_to_use_the_city_account(city, newcomer, settings):
    settings.OIDC_ENABLED = True
    invitations.invitation_send(person=newcomer, by=city.itsa)
    [email] = _mails_to(newcomer)
    assert "city account" in email.body and "password/" not in email.body


def test_the_command_invites_every_person_with_a_role_and_no_password(city, newcomer):
    """S3.5b: people imported with a role and no password get their invitation at once."""
    plain = User.objects.create_user(email="plain@police.example", full_name="No Role", department=city.police)
    out = io.StringIO()
    call_command("send_invitations", stdout=out)
    assert "Invited nora@police.example" in out.getvalue() and "1 invitation sent" in out.getvalue()
    assert len(_mails_to(newcomer)) == 1 and _mails_to(plain) == []
    assert _events("invitation.send") == [("success", "link valid 7 days")]


def test_itsa_sends_an_invitation_from_the_person_page(city, newcomer, client):
    client.force_login(city.itsa)
    page = client.get(reverse("accounts:person", args=[newcomer.pk])).content.decode()
    assert "Send an invitation" in page
    response = client.post(reverse("security:invite", args=[newcomer.pk]))
    assert redirect_target(response) == reverse("accounts:person", args=[newcomer.pk])
    assert len(_mails_to(newcomer)) == 1
    client.force_login(city.head)
    assert "Send an invitation" not in client.get(reverse("accounts:person", args=[newcomer.pk])).content.decode()
    assert client.post(reverse("security:invite", args=[newcomer.pk])).status_code == 404


# --- Forgot your password? ---------------------------------------------------------------------------

def test_the_sign_in_page_links_to_forgot_your_password(db):
    assert FORGOT in Client().get(reverse("login")).content.decode()


def test_the_answer_is_the_same_whether_or_not_the_address_exists(city):
    """S3.10: the page tells nobody which addresses are people of the portal."""
    known = Client().post(FORGOT, {"email": city.officer.email})
    unknown = Client().post(FORGOT, {"email": "nobody@city.example"})

    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert messages_of(known) == messages_of(unknown)
    assert len(_mails_to(city.officer)) == 1
    assert not OutgoingEmail.objects.filter(to__contains=["nobody@city.example"]).exists()
    assert _events("password_reset.request") == [("success", "link sent"), ("denied", "unknown address")]


def test_a_reset_link_sets_a_new_password_once_and_ends_the_sessions(city):
    """S3.10"""
    browser = Client()
    sign_in(browser, city.officer.email)
    assert UserSession.objects.filter(user=city.officer).exists()
    Client().post(FORGOT, {"email": city.officer.email.upper()})
    link = _link_in(_mails_to(city.officer)[0])

    assert redirect_target(_set(Client(), link)) == reverse("login")

    city.officer.refresh_from_db()
    assert city.officer.check_password(NEW)
    assert not UserSession.objects.filter(user=city.officer).exists()
    assert SESSION_KEY not in browser.session.load()
    assert _set(Client(), link, "yet another passphrase 3").status_code == 400
    assert _events("password_reset.complete") == [("success", ""), ("refused", "invalid link")]


def test_reset_requests_are_rate_limited_per_address(city, settings):
    """S3.10: a flood of requests for one address sends no more mail, and each is audited."""
    settings.PASSWORD_RESET_ADDRESS_LIMIT = 2
    for attempt in range(4):
        Client().post(FORGOT, {"email": city.officer.email}, REMOTE_ADDR=f"192.0.2.{attempt + 1}")
    assert len(_mails_to(city.officer)) == 2
    assert [outcome for outcome, _ in _events("password_reset.request")] == ["success", "success", "denied", "denied"]


def test_reset_requests_are_rate_limited_per_client_address(city, settings):
    """S3.10"""
    settings.PASSWORD_RESET_IP_LIMIT = 2
    for person in (city.officer, city.analyst, city.head):
        Client().post(FORGOT, {"email": person.email}, REMOTE_ADDR="198.51.100.7")
    assert len(_mails_to(city.head)) == 0 and len(_mails_to(city.analyst)) == 1
    assert "too many requests" in _events("password_reset.request")[-1][1]


def test_djangos_own_reset_address_goes_through_the_outbox(city):
    """S3.10: the address of Django's reset page is ours: no mail bypasses the outbox and its limits."""
    assert reverse("password_reset") == FORGOT
    Client().post(reverse("password_reset"), {"email": city.officer.email})
    assert len(_mails_to(city.officer)) == 1


def test_a_bad_address_gets_a_clear_error(db):
    response = Client().post(FORGOT, {"email": "not an address"})
    assert response.status_code == 200 and "usa-error-message" in response.content.decode()
    assert not AuditEvent.objects.filter(action="password_reset.request").exists()


# --- A lost authenticator -------------------------------------------------------------------------

def _with_authenticator(person):
    TOTPDevice.objects.create(user=person, name="Authenticator app", confirmed=True)
    StaticDevice.objects.create(user=person, name="Recovery codes", confirmed=True)


def test_itsa_resets_a_lost_authenticator_and_ends_the_persons_sessions(city):
    """S3.10: the lost phone stops working at once: devices gone, every session ended, mailed."""
    _with_authenticator(city.head)
    browser = Client()
    sign_in(browser, city.head.email)

    invitations.authenticator_reset(person=city.head, by=city.itsa)

    assert not TOTPDevice.objects.filter(user=city.head).exists()
    assert not StaticDevice.objects.filter(user=city.head).exists()
    assert not services.has_authenticator(city.head)
    assert not UserSession.objects.filter(user=city.head).exists()
    assert _events("authenticator.reset") == [("success", "1 session(s) ended")]
    assert "removed the authenticator" in _mails_to(city.head)[0].body
    # The head needs a second factor: the next sign-in goes to the set-up page.
    client = Client()
    sign_in(client, city.head.email)
    assert redirect_target(client.get(reverse("home"))) == SETUP


def test_nobody_resets_their_own_authenticator(city):
    """S3.2c: never for oneself, ITSA included; the refusal is audited."""
    _with_authenticator(city.itsa)
    with pytest.raises(NotAllowed, match="own authenticator"):
        invitations.authenticator_reset(person=city.itsa, by=city.itsa)
    assert services.has_authenticator(city.itsa)
    assert _events("authenticator.reset") == [("refused", "own authenticator")]


def test_only_itsa_resets_an_authenticator(city):
    """S3.5b"""
    _with_authenticator(city.officer)
    with pytest.raises(NotAllowed):
        invitations.authenticator_reset(person=city.officer, by=city.head)
    assert services.has_authenticator(city.officer)
    assert _events("authenticator.reset") == [("denied", "not ITSA")]


def test_no_reset_without_an_authenticator(city):
    with pytest.raises(RuleViolation, match="no authenticator"):
        invitations.authenticator_reset(person=city.officer, by=city.itsa)


def test_itsa_resets_from_the_person_page_after_entering_the_password(city, client):
    _with_authenticator(city.officer)
    client.force_login(city.itsa)
    page = client.get(reverse("accounts:person", args=[city.officer.pk])).content.decode()
    assert "Reset their authenticator" in page
    assert "Reset their authenticator" not in client.get(
        reverse("accounts:person", args=[city.itsa.pk])).content.decode()
    session = client.session
    session[services.PASSWORD_AT] = 0
    session.save()
    response = client.post(reverse("security:authenticator_reset", args=[city.officer.pk]))
    assert redirect_target(response) == reverse("security:confirm_password")
    assert services.has_authenticator(city.officer)
    client.post(reverse("security:confirm_password"), {"password": PASSWORD})
    response = client.post(reverse("security:authenticator_reset", args=[city.officer.pk]))
    assert redirect_target(response) == reverse("accounts:person", args=[city.officer.pk])
    assert not services.has_authenticator(city.officer)


def test_a_person_given_a_role_without_a_password_is_invited_by_itself(city):
    """The invitation goes when the role is given (a requester added, a head set), not only from the
    person page; a person who can already sign in gets none."""
    from accounts.models import Department
    from accounts.services import authorized_requester_add, department_set_head

    person = User.objects.create_user(email="rita@police.example", full_name="Rita Rookie", department=city.police)
    authorized_requester_add(department=city.police, person=person, by=city.itsa)
    invited = OutgoingEmail.objects.filter(to__contains=[person.email])
    assert invited.count() == 1 and "/accounts/" in invited.get().body
    assert AuditEvent.objects.filter(action="invitation.send", target=str(person), actor=city.itsa).exists()

    parks = Department.objects.create(name="Parks", code="parks")
    head = User.objects.create_user(email="pat@parks.example", full_name="Pat Parks", department=parks)
    department_set_head(department=parks, head=head, by=city.itsa)
    assert OutgoingEmail.objects.filter(to__contains=[head.email]).count() == 1

    authorized_requester_add(department=city.streets, person=city.streets_worker, by=city.itsa)
    assert not OutgoingEmail.objects.filter(to__contains=[city.streets_worker.email]).exists()


def test_a_city_role_given_in_the_admin_invites_a_person_who_cannot_sign_in(city, client):
    """S3.10: the admin gives a role like the services do: the person is invited once, by the
    administrator who gave it; keeping the role on a later save sends nothing more."""
    from django.contrib.auth.models import Group

    from accounts.models import DESIGNEE_GROUP

    User.objects.filter(pk=city.itsa.pk).update(is_staff=True, is_superuser=True)
    client.force_login(User.objects.get(pk=city.itsa.pk))
    person = User.objects.create_user(email="dana@mayor.example", full_name="Dana Deputy")
    url = reverse("admin:accounts_user_change", args=[person.pk])
    designees = Group.objects.get(name=DESIGNEE_GROUP)
    data = {"email": person.email, "full_name": person.full_name, "title": "", "department": "", "is_active": "on",
            "groups": [designees.pk]}

    assert client.post(url, data).status_code == 302
    invited = OutgoingEmail.objects.filter(to__contains=[person.email])
    assert invited.count() == 1
    assert AuditEvent.objects.filter(action="invitation.send", target=str(person), actor=city.itsa).exists()

    assert client.post(url, {**data, "title": "Deputy"}).status_code == 302
    assert invited.count() == 1


def test_a_city_role_given_in_the_admin_to_someone_who_signs_in_sends_no_invitation(city, client):
    from django.contrib.auth.models import Group

    from accounts.models import ITSA_GROUP

    User.objects.filter(pk=city.itsa.pk).update(is_staff=True, is_superuser=True)
    client.force_login(User.objects.get(pk=city.itsa.pk))
    person = User.objects.create_user(email="ian@itsa.example", full_name="Ian Itsa", password=PASSWORD)
    response = client.post(reverse("admin:accounts_user_change", args=[person.pk]), {
        "email": person.email, "full_name": person.full_name, "title": "", "department": "", "is_active": "on",
        "groups": [Group.objects.get(name=ITSA_GROUP).pk]})
    assert response.status_code == 302
    assert person.groups.filter(name=ITSA_GROUP).exists()
    assert not OutgoingEmail.objects.filter(to__contains=[person.email]).exists()
