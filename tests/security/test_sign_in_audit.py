"""Every sign-in event is on the audit trail with who, what, the outcome and where from (S3.10)."""

from axes.models import AccessAttempt
from conftest import file_request, provisioned, signed_in_client
from django.test import Client
from django.urls import reverse

from accounts.models import User
from portal.models import AuditEvent
from access_requests.services import access_request_approve
from security.models import AccountLock, UserSession
from security_helpers import VERIFY, a_minute_later, code_now, enrol, sign_in, sign_out, wrong_code

HERE = "127.0.0.1"


def _event(action, outcome="success"):
    return AuditEvent.objects.filter(action=action, outcome=outcome).order_by("-seq").first()


def _enrolled_head(city):
    browser = Client()
    sign_in(browser, city.head.email)
    key, codes = enrol(browser)
    sign_out(browser)
    return key, codes


def test_a_successful_sign_in_is_recorded(city):
    """S3.10"""
    sign_in(Client(), city.officer.email)

    event = _event("sign_in")
    assert (event.actor, event.target, event.ip_address) == (city.officer, str(city.officer), HERE)


def test_behind_the_trusted_proxy_the_client_it_names_is_recorded(city, settings):
    """S3.10: every request comes from the proxy; the trail, the failure count and the session
    list record the client."""
    settings.PORTAL_TRUSTED_PROXIES = [HERE]
    sign_in(Client(), city.head.email, "not the password", HTTP_X_FORWARDED_FOR="198.51.100.7")
    sign_in(Client(), city.requester.email, HTTP_X_FORWARDED_FOR="198.51.100.7")

    assert _event("sign_in", "denied").ip_address == "198.51.100.7"
    assert AccessAttempt.objects.get(username=city.head.email).ip_address == "198.51.100.7"
    assert UserSession.objects.get(user=city.requester).ip_address == "198.51.100.7"


def test_a_client_naming_another_address_in_x_forwarded_for_is_recorded_at_its_own(city, settings):
    """S3.10: only a trusted proxy's header is believed."""
    settings.PORTAL_TRUSTED_PROXIES = [HERE]
    sign_in(Client(), city.head.email, "not the password", REMOTE_ADDR="203.0.113.9",
            HTTP_X_FORWARDED_FOR="198.51.100.7")

    assert _event("sign_in", "denied").ip_address == "203.0.113.9"
    assert AccessAttempt.objects.get(username=city.head.email).ip_address == "203.0.113.9"


def test_a_failed_sign_in_is_recorded_with_the_e_mail_as_typed(city):
    """S3.10"""
    sign_in(Client(), "Officer@Police.Example", "not the password")

    event = _event("sign_in", "denied")
    assert (event.actor, event.target, event.ip_address) == (None, "Officer@Police.Example", HERE)
    assert "not the password" not in event.detail


def test_signing_out_is_recorded(city):
    """S3.10"""
    browser = Client()
    sign_in(browser, city.officer.email)

    sign_out(browser)

    event = _event("sign_out")
    assert (event.actor, event.target, event.ip_address) == (city.officer, str(city.officer), HERE)


def test_setting_up_an_authenticator_is_recorded(city):
    """S3.10"""
    _enrolled_head(city)

    event = _event("second_factor.enrol")
    assert (event.actor, event.target, event.ip_address) == (city.head, str(city.head), HERE)


def test_a_wrong_code_at_set_up_is_recorded_as_refused(city):
    browser = Client()
    sign_in(browser, city.head.email)
    browser.get(reverse("security:setup"))

    browser.post(reverse("security:setup"), {"code": wrong_code(browser.session["security.pending_authenticator_key"])})

    event = _event("second_factor.enrol", "refused")
    assert (event.actor, event.ip_address) == (city.head, HERE)


def test_passing_and_failing_the_second_factor_are_recorded(city):
    """S3.10"""
    key, _ = _enrolled_head(city)
    browser = Client()
    sign_in(browser, city.head.email)

    browser.post(VERIFY, {"code": wrong_code(key)})
    a_minute_later(city.head)
    browser.post(VERIFY, {"code": code_now(city.head)})

    denied, passed = _event("sign_in.second_factor", "denied"), _event("sign_in.second_factor")
    assert (denied.actor, denied.target, denied.ip_address) == (city.head, str(city.head), HERE)
    assert (passed.actor, passed.target, passed.ip_address, passed.detail) == (
        city.head, str(city.head), HERE, "authenticator")
    assert passed.seq > denied.seq


def test_a_recovery_code_sign_in_is_recorded_as_such(city):
    _, codes = _enrolled_head(city)
    browser = Client()
    sign_in(browser, city.head.email)

    browser.post(VERIFY, {"code": codes[0]})

    assert _event("sign_in.second_factor").detail == "recovery code"


def test_new_recovery_codes_are_recorded(city, client):
    """S3.10"""
    client.force_login(city.head)

    client.post(reverse("security:recovery_codes"))

    event = _event("second_factor.recovery_codes")
    assert (event.actor, event.target, event.ip_address) == (city.head, str(city.head), HERE)


def test_a_lockout_and_its_release_are_recorded(city, client):
    """S3.10"""
    for attempt in range(5):
        sign_in(Client(), city.head.email, "not the password")
    lockout = _event("sign_in.lockout", "denied")
    assert (lockout.actor, lockout.target, lockout.ip_address) == (None, str(city.head), HERE)

    client.force_login(city.itsa)
    client.post(reverse("security:release", args=[AccountLock.objects.get().pk]))

    release = _event("sign_in.release")
    assert (release.actor, release.target, release.ip_address) == (city.itsa, str(city.head), HERE)


def test_ending_the_other_sessions_is_recorded(city, client):
    """S3.10"""
    client.force_login(city.officer)
    signed_in_client().force_login(city.officer)

    client.post(reverse("security:end_other_sessions"))

    event = _event("session.end")
    assert (event.actor, event.target, event.ip_address) == (city.officer, str(city.officer), HERE)
    assert "1 other session" in event.detail


def test_ending_sessions_by_deactivating_a_person_in_the_admin_names_who_did_it(city, client):
    """S3.10"""
    signed_in_client().force_login(city.officer)
    User.objects.filter(pk=city.itsa.pk).update(is_staff=True, is_superuser=True)
    client.force_login(User.objects.get(pk=city.itsa.pk))

    client.post(reverse("admin:accounts_user_change", args=[city.officer.pk]), {
        "email": city.officer.email, "full_name": city.officer.full_name, "title": city.officer.title,
        "department": city.police.pk,
    })

    event = _event("session.end")
    assert (event.target, event.ip_address) == (str(city.officer), HERE)
    assert event.actor == city.itsa


def test_ending_sessions_by_provisioning_a_suspension_names_who_did_it(city, client):
    """S3.10"""
    provisioned(city, person=city.officer)
    suspension = access_request_approve(request=file_request(city, action="suspend"), by=city.head)
    signed_in_client().force_login(city.officer)
    client.force_login(city.itsa)

    client.post(reverse("requests:provision", args=[suspension.pk]), {"account_name": ""})

    assert not UserSession.objects.filter(user=city.officer).exists()
    event = _event("session.end")
    assert (event.target, event.ip_address) == (str(city.officer), HERE)
    assert event.actor == city.itsa
