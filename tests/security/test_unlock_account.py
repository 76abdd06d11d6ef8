"""`manage.py unlock_account EMAIL`: break glass when no other ITSA administrator can release a lock."""

import io

import pytest
from axes.models import AccessAttempt
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from portal.models import AuditEvent
from security import services
from security.models import AccountLock
from security_helpers import sign_in

WRONG = "not the password"


def _unlock(email):
    out = io.StringIO()
    call_command("unlock_account", email, stdout=out)
    return out.getvalue()


def test_it_releases_every_lock_of_the_account_and_writes_the_audit_trail(city, settings):
    for admin in (city.itsa, city.itsa2):
        for attempt in range(5):
            sign_in(Client(), admin.email, WRONG, REMOTE_ADDR="192.0.2.66")
    services.account_lock(username=city.itsa.email, ip_address="203.0.113.5", every_address=True)

    output = _unlock(city.itsa.email.upper())

    assert not AccountLock.objects.filter(user=city.itsa, released_at__isnull=True).exists()
    assert AccountLock.objects.filter(user=city.itsa2, released_at__isnull=True).count() == 1
    assert not AccessAttempt.objects.filter(username=city.itsa.email).exists()
    assert "from every address" in output and "from 192.0.2.66 only" in output
    assert "itsa@city.example can sign in again" in output
    event = AuditEvent.objects.get(action="sign_in.release")
    assert (event.actor, event.outcome, event.target) == (None, "success", str(city.itsa))
    assert "lock from every address" in event.detail and "lock from 192.0.2.66 only" in event.detail
    browser = Client()
    assert sign_in(browser, city.itsa.email, REMOTE_ADDR="192.0.2.66").status_code == 302
    assert browser.session["_auth_user_id"] == str(city.itsa.pk)


def test_the_released_locks_show_as_released_by_the_command(city, client):
    services.account_lock(username=city.head.email, ip_address="192.0.2.66")
    _unlock(city.head.email)
    client.force_login(city.itsa)

    page = client.get(reverse("security:locked")).content.decode()

    assert "The unlock_account command" in page


def test_an_account_with_no_lock_is_said_so_and_its_failures_are_forgotten(city):
    sign_in(Client(), city.head.email, WRONG)

    output = _unlock(city.head.email)

    assert "had no open lock" in output
    assert not AccessAttempt.objects.exists()
    assert AuditEvent.objects.get(action="sign_in.release").detail.endswith("no open lock")


def test_an_unknown_e_mail_is_refused_clearly_and_nothing_changes(city):
    services.account_lock(username=city.head.email, ip_address="192.0.2.66")

    with pytest.raises(CommandError, match="No person has the e-mail address 'nobody@city.example'"):
        _unlock("nobody@city.example")

    assert AccountLock.objects.get(user=city.head).is_open
    assert not AuditEvent.objects.filter(action="sign_in.release").exists()
