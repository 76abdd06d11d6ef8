"""Nightly session housekeeping, and refused CSRF posts on the audit trail (S3.10)."""

from datetime import timedelta

from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import signed_in_client
from portal.models import AuditEvent
from security.models import UserSession
from security.tasks import prune_sessions


def test_the_nightly_run_deletes_expired_sessions_and_their_records_and_keeps_live_ones(city):
    live, stale = signed_in_client(), signed_in_client()
    live.force_login(city.officer)
    stale.force_login(city.requester)
    Session.objects.filter(session_key=stale.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1))
    UserSession.objects.create(user=city.analyst, session_key="gone-long-ago")

    pruned = prune_sessions.delay().get()

    assert pruned == 2
    assert list(UserSession.objects.values_list("user", flat=True)) == [city.officer.pk]
    assert live.get(reverse("home")).status_code == 200


def test_the_nightly_run_is_on_the_beat_schedule():
    assert django_settings.CELERY_BEAT_SCHEDULE["prune-sessions"]["task"] == "security.tasks.prune_sessions"


def test_a_post_without_its_csrf_token_is_refused_and_written_to_the_audit_trail(city):
    client = signed_in_client(enforce_csrf_checks=True)
    client.force_login(city.officer)

    response = client.post(reverse("security:end_other_sessions"))

    assert response.status_code == 403
    event = AuditEvent.objects.get(action="csrf.failed")
    assert (event.actor, event.outcome, event.target) == (city.officer, "denied", reverse("security:end_other_sessions"))
    assert "CSRF" in event.detail


def test_an_anonymous_post_without_a_token_is_written_without_an_actor(db):
    response = Client(enforce_csrf_checks=True).post(reverse("login"), {"username": "x@y.example", "password": "z"})

    assert response.status_code == 403
    assert AuditEvent.objects.get(action="csrf.failed").actor is None
