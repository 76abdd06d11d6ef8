"""The outbox: a committed change always has its mail recorded, and the mail goes exactly once,
even when the broker is down at the commit."""

import socket
import threading
import time
from datetime import timedelta

import kombu.pools
import pytest
from conftest import file_request
from django.core import mail
from django.db import transaction
from django.db.models import F

from portal.celery import app
from portal.models import OutgoingEmail
from portal.emails import email_send, outgoing_email_send
from portal.tasks import flush_outgoing_email, send_outgoing_email
from access_requests.models import AccessRequest


class _Rollback(Exception):
    pass


def _time_passes(delta: timedelta) -> None:
    """Move every recorded mail back in time, as if `delta` had passed since it was written."""
    OutgoingEmail.objects.update(created_at=F("created_at") - delta)
    OutgoingEmail.objects.filter(next_attempt_at__isnull=False).update(next_attempt_at=F("next_attempt_at") - delta)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _forget_broker_connections() -> None:
    # Celery keeps its producer pools for the broker it first published to: close and forget
    # them when the broker changes, so the next publish connects where it is meant to.
    kombu.pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def city(city):
    """The city, with the mails of its own setting-up (never committed in these tests) cleared."""
    OutgoingEmail.objects.all().delete()
    return city


@pytest.fixture
def broker_at():
    """Publish to the broker at a given URL, for real (not in-process), for this test only."""
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}

    def use(url: str) -> None:
        app.conf.update(broker_url=url, task_always_eager=False)
        _forget_broker_connections()

    yield use
    app.conf.update(saved)
    _forget_broker_connections()


@pytest.fixture
def hanging_broker():
    """A server that accepts connections and never answers: a broker hung, not gone."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    stop = threading.Event()
    accepted = []

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def test_a_committed_change_records_its_mail_and_sends_it_after_the_commit(city, django_capture_on_commit_callbacks):
    """S3.4c"""
    with django_capture_on_commit_callbacks(execute=True):
        request = file_request(city)

    email = OutgoingEmail.objects.get()
    assert email.to == [city.head.email]
    assert request.reference in email.subject
    assert email.is_sent and email.attempts == 1
    assert [message.subject for message in mail.outbox] == [email.subject]


def test_a_rolled_back_change_records_no_mail_and_sends_nothing(city, django_capture_on_commit_callbacks):
    """S3.4c"""
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(_Rollback):
            with transaction.atomic():
                file_request(city)
                assert OutgoingEmail.objects.count() == 1
                raise _Rollback

    assert callbacks == []
    assert not OutgoingEmail.objects.exists()
    assert mail.outbox == []
    flush_outgoing_email()
    assert mail.outbox == []


def test_a_mail_sent_twice_goes_once(city, django_capture_on_commit_callbacks):
    """S3.4c: a redelivered task, a retry and the sweep never send a mail a second time."""
    with django_capture_on_commit_callbacks(execute=True):
        file_request(city)
    email = OutgoingEmail.objects.get()

    assert send_outgoing_email.delay(email.pk).get() is False
    send_outgoing_email(email.pk)
    _time_passes(timedelta(hours=2))
    assert flush_outgoing_email() == 0

    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert email.attempts == 1


def test_with_the_broker_down_the_filing_answers_quickly_and_the_sweep_sends_the_mail(
    city, broker_at, django_capture_on_commit_callbacks
):
    """S3.4c: Redis unreachable: the request is saved, the call answers within seconds, the mail goes later."""
    broker_at(f"redis://127.0.0.1:{_free_port()}/0")

    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        request = file_request(city)
    elapsed = time.monotonic() - started

    assert elapsed < 5, f"the filing took {elapsed:.1f} s with the broker down"
    assert AccessRequest.objects.filter(pk=request.pk, status=AccessRequest.Status.AWAITING_HEAD).exists()
    email = OutgoingEmail.objects.get()
    assert not email.is_sent and email.attempts == 0
    assert mail.outbox == []

    assert flush_outgoing_email() == 0, "a mail younger than a minute is still on its way"
    _time_passes(timedelta(minutes=2))
    assert flush_outgoing_email() == 1

    assert [message.to for message in mail.outbox] == [[city.head.email]]
    assert request.reference in mail.outbox[0].subject
    email.refresh_from_db()
    assert email.is_sent


def test_with_the_broker_hanging_the_filing_still_answers_within_seconds(
    city, broker_at, hanging_broker, django_capture_on_commit_callbacks
):
    """S3.4c: a broker that accepts the connection and never answers does not hang the page."""
    broker_at(hanging_broker)

    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        request = file_request(city)
    elapsed = time.monotonic() - started

    assert elapsed < 5, f"the filing took {elapsed:.1f} s with the broker hanging"
    assert AccessRequest.objects.filter(pk=request.pk).exists()
    assert OutgoingEmail.objects.filter(sent_at__isnull=True).count() == 1


def test_the_sweep_sends_a_bounded_number_of_mails_per_run_oldest_first(city, settings, broker_at,
                                                                          django_capture_on_commit_callbacks):
    settings.OUTGOING_EMAIL_SWEEP_BATCH = 2
    broker_at(f"redis://127.0.0.1:{_free_port()}/0")
    with django_capture_on_commit_callbacks(execute=True):
        references = [file_request(city, person=person).reference for person in (city.officer, city.analyst)]
        references.append(file_request(city, person=city.requester, by=city.head).reference)
    _time_passes(timedelta(minutes=2))

    assert flush_outgoing_email() == 2
    assert [reference in message.subject for message, reference in zip(mail.outbox, references)] == [True, True]
    assert flush_outgoing_email() == 1
    assert OutgoingEmail.objects.filter(sent_at__isnull=True).count() == 0
    assert len(mail.outbox) == 3


def test_the_sweep_runs_every_minute_by_default(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["flush-outgoing-email"]
    assert entry["task"] == flush_outgoing_email.name
    assert entry["schedule"] == 60 == settings.OUTGOING_EMAIL_SWEEP_EVERY


def test_every_attempt_at_a_mail_carries_the_same_message_id_on_the_public_host(city, settings,
                                                                                  django_capture_on_commit_callbacks):
    """A mail sent again after a worker died mid-send is the same message to the reader's client."""
    settings.PORTAL_BASE_URL = "https://portal.city.example"
    with django_capture_on_commit_callbacks(execute=False):
        email = email_send("department-access-decided", to=[city.head.email],
                           context={"access": city.police_vms})
    outgoing_email_send(pk=email.pk)
    OutgoingEmail.objects.filter(pk=email.pk).update(sent_at=None)
    outgoing_email_send(pk=email.pk)

    ids = [message.extra_headers["Message-ID"] for message in mail.outbox]
    assert len(ids) == 2 and ids[0] == ids[1]
    assert ids[0].startswith(f"<outbox-{email.pk}.") and ids[0].endswith("@portal.city.example>")
