"""The e-mail helper renders now and sends only once the transaction commits."""

import pytest
from django.core import mail
from django.db import transaction

from portal.emails import email_send
from access_requests.models import DepartmentAccess


class _Rollback(Exception):
    pass


def _send(city, to):
    access = DepartmentAccess.objects.get(pk=city.police_vms.pk)
    email_send("department-access-decided", to=to, context={"access": access})


def test_a_mail_is_sent_after_the_commit_not_before(city, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _send(city, [city.head.email])
        assert mail.outbox == []

    assert len(callbacks) == 1
    callbacks[0]()
    assert [message.to for message in mail.outbox] == [[city.head.email]]


def test_a_mail_has_a_text_body_and_an_html_alternative(city, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _send(city, [city.head.email])

    message = mail.outbox[0]
    assert message.subject and city.police_vms.system.name in message.subject + message.body
    assert [mimetype for _, mimetype in message.alternatives] == ["text/html"]


def test_a_rolled_back_transaction_sends_nothing(city, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(_Rollback):
            with transaction.atomic():
                _send(city, [city.head.email])
                raise _Rollback

    assert callbacks == []
    assert mail.outbox == []


def test_recipients_are_deduplicated_and_blanks_dropped(city, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _send(city, [city.head.email, "", city.head.email, None, city.itsa.email])

    assert [sorted(message.to) for message in mail.outbox] == [sorted([city.head.email, city.itsa.email])]


def test_nothing_is_enqueued_without_recipients(city, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _send(city, ["", None])

    assert callbacks == []
    assert mail.outbox == []


def test_user_text_is_escaped_in_the_html_part(city, django_capture_on_commit_callbacks):
    """S3.10: user text never becomes markup."""
    DepartmentAccess.objects.filter(pk=city.police_vms.pk).update(decision_reason="<script>alert(1)</script>")
    with django_capture_on_commit_callbacks(execute=True):
        _send(city, [city.head.email])

    html = mail.outbox[0].alternatives[0][0]
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_links_in_mail_start_with_the_configured_public_address(city, settings, django_capture_on_commit_callbacks):
    settings.PORTAL_BASE_URL = "https://portal.city.example"
    with django_capture_on_commit_callbacks(execute=True):
        _send(city, [city.head.email])

    access = DepartmentAccess.objects.get(pk=city.police_vms.pk)
    assert f"https://portal.city.example{access.get_absolute_url()}" in mail.outbox[0].body
    assert "127.0.0.1" not in mail.outbox[0].body
