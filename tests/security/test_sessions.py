"""Sessions end when idle, at an absolute lifetime, and at once when a person is deactivated or
their access suspended (through security.services, which the deactivating and suspending steps
call); a person can sign out everywhere else (S3.10)."""

import time
from datetime import timedelta
from importlib import import_module
from urllib.parse import urlencode

from conftest import PASSWORD, messages_of, provisioned, signed_in_client
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Grant, User
from accounts.services import grant_set_status
from portal.models import AuditEvent
from security import services
from security.models import UserSession
from security_helpers import sign_in, sign_out

HOME = reverse("home")
LOGIN = reverse("login")


def _signed_in(person):
    client = signed_in_client()
    client.force_login(person)
    assert client.get(HOME).status_code == 200
    return client


def _is_sent_to_sign_in(client, page=HOME):
    response = client.get(page)
    return response.status_code == 302 and response.url.startswith(LOGIN)


def test_a_session_ends_after_thirty_idle_minutes():
    """S3.10: idle timeout 30 minutes."""
    assert django_settings.SESSION_COOKIE_AGE == 30 * 60
    assert django_settings.SESSION_COOKIE_HTTPONLY is True


def test_a_request_a_minute_after_the_last_renewal_moves_the_end_of_the_session_thirty_minutes_ahead(city):
    client = _signed_in(city.officer)
    key = client.session.session_key
    session = client.session
    session[services.SEEN_AT] = time.time() - django_settings.SESSION_RENEW_SECONDS
    session.save()
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() + timedelta(minutes=1))

    assert client.get(HOME).status_code == 200

    expires = Session.objects.get(session_key=key).expire_date
    assert abs((expires - timezone.now()) - timedelta(seconds=django_settings.SESSION_COOKIE_AGE)) < timedelta(
        seconds=30)


def test_requests_within_a_minute_of_the_last_renewal_do_not_write_the_session(city):
    client = _signed_in(city.officer)
    key = client.session.session_key
    before = Session.objects.get(session_key=key).expire_date

    assert client.get(HOME).status_code == 200

    assert Session.objects.get(session_key=key).expire_date == before


def _session_store():
    return import_module(django_settings.SESSION_ENGINE).SessionStore


def _idle_past_the_timeout(key):
    """What the passing of the idle time does: the database row expires, and so does the copy in the
    session cache, which is kept for the same time (cached_db, with Redis)."""
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    prefix = getattr(_session_store(), "cache_key_prefix", None)
    if prefix is not None:
        caches[django_settings.SESSION_CACHE_ALIAS].delete(prefix + key)


def test_a_session_idle_for_longer_than_the_timeout_is_signed_out(city):
    """S3.10"""
    client = _signed_in(city.officer)
    _idle_past_the_timeout(client.session.session_key)

    assert _is_sent_to_sign_in(client)


def test_sessions_are_read_from_redis_when_the_portal_has_it():
    """Every signed-in request reads the session: from Redis in front of the database when Redis is
    configured (production), from the database alone otherwise (a cache per process could not forget
    a session ended in another process)."""
    if django_settings.REDIS_URL:
        assert django_settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"
        assert "redis" in django_settings.CACHES[django_settings.SESSION_CACHE_ALIAS]["BACKEND"].lower()
    else:
        assert django_settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"


def test_an_ended_session_is_not_read_back_from_the_session_cache(city):
    """S3.10: ending a person's sessions forgets them in the session cache too, so the next request of
    that browser cannot find the session there."""
    client, other = _signed_in(city.officer), _signed_in(city.analyst)
    key = client.session.session_key
    assert _session_store()(session_key=key).load()

    services.sessions_end(user=User.objects.get(pk=city.officer.pk), reason="test")

    assert _session_store()(session_key=key).load() == {}
    assert _is_sent_to_sign_in(client)
    assert other.get(HOME).status_code == 200


def test_a_session_ends_at_its_absolute_lifetime_however_active(city):
    """S3.10: an absolute lifetime."""
    client = _signed_in(city.officer)
    session = client.session
    session[services.LOGIN_AT] = time.time() - django_settings.SESSION_ABSOLUTE_SECONDS - 1
    session.save()
    page = reverse("requests:list")

    response = client.get(page)

    assert response.status_code == 302
    assert response.url == f"{LOGIN}?{urlencode({'next': page})}"
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action="session.expired")
    assert (event.actor, event.target, event.ip_address) == (city.officer, str(city.officer), "127.0.0.1")
    assert _is_sent_to_sign_in(client)


def test_a_session_just_inside_its_absolute_lifetime_goes_on(city):
    client = _signed_in(city.officer)
    session = client.session
    session[services.LOGIN_AT] = time.time() - django_settings.SESSION_ABSOLUTE_SECONDS + 60
    session.save()

    assert client.get(HOME).status_code == 200
    assert not AuditEvent.objects.filter(action="session.expired").exists()


def test_the_absolute_lifetime_is_a_working_day_or_less():
    assert 0 < django_settings.SESSION_ABSOLUTE_SECONDS <= 12 * 60 * 60


def test_deactivating_a_person_ends_their_sessions_at_once(city):
    """S3.10: deactivating a person ends their sessions at once."""
    phone, desk = _signed_in(city.officer), _signed_in(city.officer)
    bystander = _signed_in(city.analyst)
    keys = [phone.session.session_key, desk.session.session_key]

    with transaction.atomic():
        services.person_deactivate(person=User.objects.get(pk=city.officer.pk), by=city.itsa)

    assert not Session.objects.filter(session_key__in=keys).exists()
    assert not UserSession.objects.filter(user=city.officer).exists()
    assert _is_sent_to_sign_in(phone) and _is_sent_to_sign_in(desk)
    assert bystander.get(HOME).status_code == 200
    event = AuditEvent.objects.get(action="session.end")
    assert event.target == str(city.officer) and "2 session(s)" in event.detail


def test_deactivating_a_person_in_the_admin_ends_their_sessions(city):
    """S3.10"""
    officer = _signed_in(city.officer)
    User.objects.filter(pk=city.itsa.pk).update(is_staff=True, is_superuser=True)
    admin = _signed_in(User.objects.get(pk=city.itsa.pk))
    url = reverse("admin:accounts_user_change", args=[city.officer.pk])
    assert admin.get(url).status_code == 200

    response = admin.post(url, {
        "email": city.officer.email, "full_name": city.officer.full_name, "title": city.officer.title,
        "department": city.police.pk, "is_staff": "", "is_superuser": "",
    })

    assert response.status_code == 302, response.content.decode()[:2000]
    assert not User.objects.get(pk=city.officer.pk).is_active
    assert _is_sent_to_sign_in(officer)
    assert AuditEvent.objects.filter(action="session.end", target=str(city.officer)).exists()


def test_suspending_a_grant_ends_its_holders_sessions(city):
    """S3.10: suspending a person's grants ends their sessions at once."""
    grant = provisioned(city, person=city.officer).grant
    officer = _signed_in(city.officer)

    with transaction.atomic():
        services.grant_suspend(grant=grant, by=city.itsa)

    assert _is_sent_to_sign_in(officer)
    assert AuditEvent.objects.filter(action="session.end", target=str(city.officer)).exists()


def test_reinstating_or_removing_nothing_ends_no_session(city):
    grant = provisioned(city, person=city.officer).grant
    officer = _signed_in(city.officer)

    with transaction.atomic():
        grant_set_status(grant=grant, status=Grant.Status.ACTIVE, by=city.itsa)

    assert officer.get(HOME).status_code == 200
    assert not AuditEvent.objects.filter(action="session.end").exists()


def test_signing_out_everywhere_else_keeps_this_session(city):
    """S3.10"""
    here, elsewhere = _signed_in(city.officer), _signed_in(city.officer)
    other_person = _signed_in(city.analyst)

    response = here.post(reverse("security:end_other_sessions"))

    assert response.status_code == 302 and response.url == reverse("security:overview")
    assert messages_of(response)[-1] == ("success", "Signed out of 1 other session.")
    assert here.get(HOME).status_code == 200
    assert _is_sent_to_sign_in(elsewhere)
    assert other_person.get(HOME).status_code == 200
    assert list(UserSession.objects.filter(user=city.officer).values_list("session_key", flat=True)) == [
        here.session.session_key]
    assert AuditEvent.objects.filter(action="session.end", actor=city.officer, ip_address="127.0.0.1").exists()


def test_signing_out_everywhere_else_refuses_get(city):
    here, elsewhere = _signed_in(city.officer), _signed_in(city.officer)

    assert here.get(reverse("security:end_other_sessions")).status_code == 405
    assert elsewhere.get(HOME).status_code == 200


def test_a_session_is_recorded_at_sign_in_and_forgotten_at_sign_out(city):
    browser = Client(HTTP_USER_AGENT="Test browser 1.0")

    assert sign_in(browser, city.officer.email).status_code == 302

    key = browser.session.session_key
    recorded = UserSession.objects.get(user=city.officer)
    assert (recorded.session_key, recorded.ip_address, recorded.user_agent) == (key, "127.0.0.1", "Test browser 1.0")

    sign_out(browser)

    assert not UserSession.objects.filter(user=city.officer).exists()
    assert not Session.objects.filter(session_key=key).exists()


def test_a_new_sign_in_gets_a_new_session_key(city):
    browser = Client()
    browser.get(LOGIN)
    before = browser.session.session_key

    sign_in(browser, city.officer.email, PASSWORD)

    assert browser.session.session_key != before
