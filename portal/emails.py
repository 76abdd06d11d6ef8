"""The e-mail helper and its outbox.

`email_send` renders templates/emails/<name>-subject.txt and -body.txt and records the mail as an
OutgoingEmail in the caller's transaction; once that commits, a Celery task sends it. When the broker
cannot take the task, the commit still stands and the sweep (`outgoing_email_flush`, every minute)
sends the mail later.

The HTML part is the text body, escaped, in templates/emails/base.html: user text never becomes markup."""

import base64
import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape

from .models import OutgoingEmail

logger = logging.getLogger(__name__)

# After a failure the sweep waits a minute, then twice as long each time, never more than an hour.
RETRY_FIRST = timedelta(minutes=1)
RETRY_MAX = timedelta(hours=1)

# The server refused this one mail: the next mail may still go through.
ONE_MAIL_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


def email_send(name: str, *, to: list[str], context: dict,
               attachments: list[tuple[str, bytes, str]] = ()) -> OutgoingEmail | None:
    """Render now and record the mail in the caller's transaction; enqueue its sending on commit.
    `attachments` are (filename, content, content type), stored with the mail so the sweep can send them too."""
    recipients = sorted({address for address in to if address})
    if not recipients:
        return None
    context = {"site_url": settings.PORTAL_BASE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
    body = render_to_string(f"emails/{name}-body.txt", context)
    # The text body comes back marked safe; escape it here so nothing a user typed becomes markup.
    html = render_to_string("emails/base.html", {"subject": subject, "body": escape(body)})
    files = [{"filename": filename, "content_type": content_type, "content": base64.b64encode(content).decode()}
             for filename, content, content_type in attachments]
    email = OutgoingEmail.objects.create(subject=subject, body=body, html=html, to=recipients, attachments=files)
    transaction.on_commit(lambda: _enqueue(email.pk))
    return email


def _enqueue(pk: int) -> None:
    from .tasks import send_outgoing_email

    try:
        # No publish retries: the broker timeouts in settings bound this call, and the sweep is the retry.
        send_outgoing_email.apply_async((pk,), retry=False)
    except Exception:
        # The change has committed and its mail is recorded, so the page must answer: whatever stopped
        # the hand-over (the broker down or hanging), the sweep sends the mail later.
        logger.warning("Outgoing e-mail %s was not handed to the worker; the sweep will send it.", pk, exc_info=True)


def outgoing_email_send(*, pk: int) -> bool:
    """Send one recorded mail, at most once; True if this call sent it.

    The row lock makes a second sender (a redelivered task, a retry, the sweep) skip a mail that is
    being sent; a sent mail is never sent again. A failure is recorded on the row, then raised."""
    with transaction.atomic():
        email = OutgoingEmail.objects.select_for_update(skip_locked=True).filter(pk=pk, sent_at__isnull=True).first()
        if email is None:
            return False
        email.attempts += 1
        message = EmailMultiAlternatives(
            subject=email.subject, body=email.body, to=email.to, headers={"Message-ID": email.message_id}
        )
        message.attach_alternative(email.html, "text/html")
        for file in email.attachments:
            message.attach(file["filename"], base64.b64decode(file["content"]), file["content_type"])
        try:
            message.send()
        except Exception as exc:
            email.last_error = f"{type(exc).__name__}: {exc}"
            email.next_attempt_at = timezone.now() + min(RETRY_FIRST * 2 ** min(email.attempts - 1, 10), RETRY_MAX)
            email.save(update_fields=["attempts", "last_error", "next_attempt_at"])
            failure = exc
        else:
            email.sent_at = timezone.now()
            email.save(update_fields=["attempts", "sent_at"])
            return True
    # Raised after the block so the recorded failure is committed, not rolled back.
    raise failure


def outgoing_email_flush() -> int:
    """Send the mails the worker never sent: the broker was down at the commit, or the sends failed.

    Only mails older than OUTGOING_EMAIL_SWEEP_AFTER seconds (younger ones are still on their way)
    and due for another try, oldest first, at most OUTGOING_EMAIL_SWEEP_BATCH. Returns how many went."""
    now = timezone.now()
    due = (
        OutgoingEmail.objects.filter(
            sent_at__isnull=True, created_at__lte=now - timedelta(seconds=settings.OUTGOING_EMAIL_SWEEP_AFTER)
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[: settings.OUTGOING_EMAIL_SWEEP_BATCH]
    )
    sent = 0
    for pk in list(due):
        try:
            sent += outgoing_email_send(pk=pk)
        except ONE_MAIL_ERRORS:
            continue
        except OSError:
            # The mail server is unreachable: every other mail would wait on it too. Next run.
            logger.warning("The mail server is unreachable; the sweep stops until its next run.", exc_info=True)
            break
        except Exception:
            logger.exception("Outgoing e-mail %s could not be sent.", pk)
    return sent
