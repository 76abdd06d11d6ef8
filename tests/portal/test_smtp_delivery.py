"""Mail reaches a real SMTP server on loopback, sent by a real Celery worker on Redis; when the
server is down the failure is recorded and the sweep sends the mail once it is back."""

import socket
import time
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from conftest import file_request
from django.db.models import F

from portal.models import OutgoingEmail
from portal.tasks import flush_outgoing_email

pytestmark = pytest.mark.django_db(transaction=True)


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def about(self, reference: str, seconds: float = 15) -> list:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = [envelope for envelope in self.envelopes if reference in _subject(envelope)]
            if found:
                return found
            time.sleep(0.1)
        return []


def _subject(envelope) -> str:
    return str(message_from_bytes(envelope.content, policy=default_policy)["Subject"])


def _time_passes(delta: timedelta) -> None:
    """Move every recorded mail back in time, as if `delta` had passed since it was written."""
    OutgoingEmail.objects.update(created_at=F("created_at") - delta)
    OutgoingEmail.objects.filter(next_attempt_at__isnull=False).update(next_attempt_at=F("next_attempt_at") - delta)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_port(settings):
    """Django sends through SMTP on a loopback port where, so far, nothing listens."""
    port = _free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    return port


@pytest.fixture
def smtp_server(smtp_port):
    """An SMTP server listening on that port, keeping what it receives."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield inbox
    controller.stop()





def test_the_worker_delivers_the_heads_mail_to_the_smtp_server(smtp_server, worker_on_redis, city):
    """S3.4c: the head learns that a request waits for them, through the worker and SMTP."""
    inbox = smtp_server
    request = file_request(city)

    found = inbox.about(request.reference)

    assert len(found) == 1
    envelope = found[0]
    assert envelope.rcpt_tos == [city.head.email]
    message = message_from_bytes(envelope.content, policy=default_policy)
    assert request.reference in message["Subject"]
    assert message["To"] == city.head.email
    assert request.get_absolute_url() in message.get_body(("plain",)).get_content()
    assert message.get_body(("html",)) is not None
    email = OutgoingEmail.objects.get(subject=message["Subject"])
    deadline = time.monotonic() + 5
    while email.sent_at is None and time.monotonic() < deadline:
        time.sleep(0.1)
        email.refresh_from_db()
    assert email.is_sent and email.attempts == 1


def test_an_smtp_failure_is_recorded_and_the_sweep_sends_the_mail_when_the_server_is_back(smtp_port, city):
    """S3.4c: mail is retried when SMTP fails, and goes exactly once when the server answers again."""
    request = file_request(city)

    email = OutgoingEmail.objects.get(subject__contains=request.reference)
    assert not email.is_sent
    assert email.attempts >= 1
    assert "refused" in email.last_error.lower()

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        assert flush_outgoing_email() == 0, "a failed mail waits for its next try"
        _time_passes(timedelta(hours=2))
        assert flush_outgoing_email() >= 1
        assert flush_outgoing_email() == 0
    finally:
        controller.stop()

    about_the_request = [envelope for envelope in inbox.envelopes if request.reference in _subject(envelope)]
    assert [envelope.rcpt_tos for envelope in about_the_request] == [[city.head.email]]
    email.refresh_from_db()
    assert email.is_sent


def test_the_sweep_stops_at_an_unreachable_server_and_leaves_the_rest_untried(smtp_port, city):
    file_request(city)
    file_request(city, person=city.analyst)
    _time_passes(timedelta(hours=2))
    tries_before = sum(OutgoingEmail.objects.values_list("attempts", flat=True))

    assert flush_outgoing_email() == 0

    assert sum(OutgoingEmail.objects.values_list("attempts", flat=True)) == tries_before + 1
    assert not OutgoingEmail.objects.filter(sent_at__isnull=False).exists()


def test_a_validation_reminder_reaches_the_smtp_server_from_the_worker(smtp_server, worker_on_redis, city):
    """S3.4f: the reminder digest goes out through the broker, the worker and SMTP on loopback."""
    from conftest import provisioned
    from django.utils import timezone

    from audits.models import Validation
    from audits.services import open_due_validations
    from audits.tasks import send_validation_reminders

    provisioned(city)
    validation = open_due_validations()[0]
    Validation.objects.filter(pk=validation.pk).update(due_date=timezone.localdate() + timedelta(days=2))

    send_validation_reminders.delay()

    found = smtp_server.about("Reminder: 1 access to validate for Police Department", seconds=20)
    assert len(found) == 1
    assert found[0].rcpt_tos == [city.head.email]
    body = message_from_bytes(found[0].content, policy=default_policy).get_body(("plain",)).get_content()
    assert validation.get_absolute_url() in body
