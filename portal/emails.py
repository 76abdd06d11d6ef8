"""The e-mail helper: render templates/emails/<name>-subject.txt and -body.txt, send after commit.

The HTML part is the text body, escaped, in templates/emails/base.html: user text never becomes markup."""

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.html import escape


def email_send(name: str, *, to: list[str], context: dict) -> None:
    """Render now, enqueue the sending once the surrounding transaction commits."""
    recipients = sorted({address for address in to if address})
    if not recipients:
        return
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
    body = render_to_string(f"emails/{name}-body.txt", context)
    # The text body comes back marked safe; escape it here so nothing a user typed becomes markup.
    html = render_to_string("emails/base.html", {"subject": subject, "body": escape(body)})

    def enqueue():
        from .tasks import send_email

        send_email.delay(subject=subject, body=body, html=html, to=recipients)

    transaction.on_commit(enqueue)
