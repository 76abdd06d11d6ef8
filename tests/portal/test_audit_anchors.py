"""The audit trail's daily anchors (S3.10): kept by a nightly task, mailed to ITSA, and published on the
transparency page and in its open data with nothing but a day, an entry's number and its hash (S2.6:
no personal data)."""

import csv
import html
import io
import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from audits import tasks
from portal.audit import anchor_mac, audit_anchors_publish, audit_record
from portal.celery import app
from portal.models import AUDIT_CHAIN_GENESIS, AuditAnchor, AuditEvent

SUBJECT = "Audit trail anchor"


def _anchor_mails() -> list:
    return [message for message in mail.outbox if message.subject.startswith(SUBJECT)]


def _days_from_today(days: int):
    return timezone.localdate() + timedelta(days=days)


def test_the_nightly_task_anchors_the_day_before_and_mails_itsa_once(city, django_capture_on_commit_callbacks):
    """S3.10: the city's set-up wrote today's entries; the day before ended with an empty trail."""
    assert AuditEvent.objects.exists()
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            tasks.publish_audit_anchors.delay().get()

    [anchor] = AuditAnchor.objects.all()
    assert (anchor.day, anchor.seq, anchor.hash) == (_days_from_today(-1), 0, AUDIT_CHAIN_GENESIS)
    assert anchor.mac == anchor_mac(day=anchor.day, seq=0, hash=AUDIT_CHAIN_GENESIS)
    [message] = _anchor_mails()
    assert sorted(message.to) == sorted([city.itsa.email, city.itsa2.email])
    assert f"verify_audit_log --anchor 0:{AUDIT_CHAIN_GENESIS}" in message.body


def test_the_task_runs_every_night_after_midnight():
    """S3.10"""
    [entry] = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "audits.tasks.publish_audit_anchors"]
    assert entry["schedule"].hour == {0}
    assert "audits.tasks.publish_audit_anchors" in app.tasks


def test_a_days_anchor_is_its_last_entry_and_the_mail_names_it(db, django_capture_on_commit_callbacks):
    """S3.10"""
    events = [audit_record(actor=None, action="test.event", target=f"thing {n}") for n in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        [anchor] = audit_anchors_publish(to=["itsa@city.example"], today=_days_from_today(1))

    assert (anchor.day, anchor.seq, anchor.hash) == (timezone.localdate(), events[-1].seq, events[-1].hash)
    [message] = _anchor_mails()
    assert message.subject == f"{SUBJECT} for {anchor.day:%B} {anchor.day.day}, {anchor.day.year}: entry {anchor.seq}"
    assert f"{anchor.day:%Y-%m-%d}  entry {anchor.seq}  hash {anchor.hash}" in message.body
    assert f"verify_audit_log --anchor {anchor.seq}:{anchor.hash}" in message.body
    assert reverse("transparency:index") in message.body
    assert anchor.mac not in message.body and "thing" not in message.body


def test_missed_nights_are_anchored_by_the_next_run_in_one_mail(db, django_capture_on_commit_callbacks):
    """S3.10: a worker that was down leaves no day without its anchor."""
    audit_anchors_publish(to=[], today=_days_from_today(-3))
    [event] = [audit_record(actor=None, action="test.event")]
    with django_capture_on_commit_callbacks(execute=True):
        anchors = audit_anchors_publish(to=["itsa@city.example"], today=_days_from_today(1))

    assert [anchor.day for anchor in anchors] == [_days_from_today(days) for days in (-3, -2, -1, 0)]
    assert [anchor.seq for anchor in anchors] == [0, 0, 0, event.seq]
    [message] = _anchor_mails()
    assert message.body.count("verify_audit_log") == 1 and message.body.count("--anchor") == 4


def test_anchors_cannot_be_changed_or_deleted_through_the_orm(db):
    """S3.10"""
    [anchor] = audit_anchors_publish(to=[], today=timezone.localdate())
    anchor.seq = 99
    for change in (anchor.save, anchor.delete, AuditAnchor.objects.all().delete,
                   lambda: AuditAnchor.objects.update(seq=99)):
        with pytest.raises(PermissionError):
            change()

    assert AuditAnchor.objects.get().seq == 0


def _public_documents() -> dict[str, str]:
    visitor = Client()
    documents = {}
    for name in ("transparency:index", "transparency:audit_anchors_csv", "transparency:open_data_json"):
        response = visitor.get(reverse(name))
        assert response.status_code == 200, name
        documents[name] = html.unescape(response.content.decode())
    return documents


def test_the_anchors_are_published_with_nothing_but_the_day_the_number_and_the_hash(city):
    """S3.10 S2.6: names, e-mail addresses and what the entries say stay inside the portal."""
    [earlier] = audit_anchors_publish(to=[], today=timezone.localdate())
    [anchor] = audit_anchors_publish(to=[], today=_days_from_today(1))
    assert anchor.seq == AuditEvent.objects.order_by("-seq").first().seq

    documents = _public_documents()

    assert anchor.hash in documents["transparency:index"]
    assert list(csv.reader(io.StringIO(documents["transparency:audit_anchors_csv"]))) == [
        ["day", "seq", "hash"],
        [anchor.day.isoformat(), str(anchor.seq), anchor.hash],
        [earlier.day.isoformat(), "0", AUDIT_CHAIN_GENESIS],
    ]
    assert json.loads(documents["transparency:open_data_json"])["audit_anchors"] == [
        {"day": anchor.day.isoformat(), "seq": anchor.seq, "hash": anchor.hash},
        {"day": earlier.day.isoformat(), "seq": 0, "hash": AUDIT_CHAIN_GENESIS},
    ]
    personal = [*User.objects.values_list("full_name", flat=True), *User.objects.values_list("email", flat=True)]
    trail = [text for text in AuditEvent.objects.values_list("target", flat=True) if text]
    for name, text in documents.items():
        assert not [value for value in personal if value.lower() in text.lower()], name
        assert anchor.mac not in text and earlier.mac not in text, name
    csv_and_json = documents["transparency:audit_anchors_csv"] + documents["transparency:open_data_json"]
    assert not [value for value in trail if value in csv_and_json]


def test_the_page_shows_the_last_month_and_the_downloads_every_day(db):
    """S3.10: the page stays small; the CSV keeps every anchor ever published."""
    audit_anchors_publish(to=[], today=_days_from_today(-40))
    audit_anchors_publish(to=[], today=_days_from_today(1))
    assert AuditAnchor.objects.count() == 42  # from 41 days ago to today

    page = Client().get(reverse("transparency:index")).content.decode()
    rows = list(csv.reader(io.StringIO(Client().get(reverse("transparency:audit_anchors_csv")).content.decode())))

    assert page.count('<td data-label="Entry number">') == 31
    assert len(rows) == 1 + 42


def test_the_page_says_when_no_anchor_was_published_yet(db):
    page = Client().get(reverse("transparency:index")).content.decode()

    assert "No anchor has been published yet." in page
