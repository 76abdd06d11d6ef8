"""Handing a report to the Board of Aldermen (S2.5d): "The Mayor shall, at the request of the Board of
Aldermen provide these reports to the Board." Only the Mayor's designee records it; the PDF is mailed
to the Board's address once the handover commits, or, without an address, recorded as given by
other means."""

import hashlib
from datetime import date, timedelta

import pytest
from conftest import make_pdf, messages_of
from django.core import mail
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from portal.errors import NotAllowed, RuleViolation
from portal.models import AuditEvent, OutgoingEmail
from reports.models import BoardHandover, PublishedReport
from reports.services import report_hand_to_board

Kind = PublishedReport.Kind
BOARD = "aldermen@city.example"
REQUESTED = date(2026, 11, 3)


@pytest.fixture
def police_report(city):
    pdf = make_pdf()
    report = PublishedReport(
        kind=Kind.DEPARTMENT_ANNUAL, department=city.police, period_start=date(2025, 1, 1),
        period_end=date(2025, 12, 31), title="Annual report of Police Department on surveillance technology, 2025",
        figures=[], published_by=city.head, published_at=timezone.now(), pdf_sha256=hashlib.sha256(pdf).hexdigest(),
    )
    report.pdf.save("report.pdf", ContentFile(pdf), save=False)
    report.save()
    return report


def _hand(report, by, **kwargs):
    return report_hand_to_board(report=report, requested_on=kwargs.pop("requested_on", REQUESTED),
                                request_reference=kwargs.pop("request_reference", "Letter of 3 November 2026"),
                                by=by, **kwargs)


def test_the_designee_hands_the_report_and_the_board_gets_its_pdf(city, police_report, settings,
                                                                     django_capture_on_commit_callbacks):
    """S2.5d: at the Board's request the report goes to the Board, its PDF attached, once it commits."""
    settings.BOARD_OF_ALDERMEN_EMAIL = BOARD
    with django_capture_on_commit_callbacks(execute=True):
        handover = _hand(police_report, city.designee, note="Asked by the public safety committee.")
    assert handover.sent_to == BOARD and handover.handed_by == city.designee
    assert handover.requested_on == REQUESTED and handover.request_reference == "Letter of 3 November 2026"
    [message] = [m for m in mail.outbox if m.to == [BOARD]]
    assert police_report.title in message.subject
    assert "Letter of 3 November 2026" in message.body
    [(filename, content, content_type)] = message.attachments
    assert filename.endswith(".pdf") and content_type == "application/pdf"
    with police_report.pdf.open("rb") as handle:
        assert content == handle.read()
    assert AuditEvent.objects.filter(action="report.hand_to_board", actor=city.designee).exists()
    assert handover.history.count() == 1


def test_the_mail_waits_for_the_commit(city, police_report, settings):
    """S2.5d: the mail is written in the handover's transaction and leaves only after it commits."""
    settings.BOARD_OF_ALDERMEN_EMAIL = BOARD
    _hand(police_report, city.designee)  # the test's transaction never commits
    assert [m for m in mail.outbox if m.to == [BOARD]] == []
    email = OutgoingEmail.objects.get(to=[BOARD])
    assert email.attachments[0]["content_type"] == "application/pdf"


def test_without_the_boards_address_it_is_recorded_as_handed_by_other_means(city, police_report, settings,
                                                                               django_capture_on_commit_callbacks):
    """S2.5d: no address, no mail: the handover is recorded, and the audit trail says nothing was sent."""
    settings.BOARD_OF_ALDERMEN_EMAIL = ""
    with django_capture_on_commit_callbacks(execute=True):
        handover = _hand(police_report, city.designee)
    assert handover.sent_to == ""
    assert [m for m in mail.outbox if m.attachments] == []
    assert not OutgoingEmail.objects.filter(subject__contains=police_report.title).exists()
    event = AuditEvent.objects.get(action="report.hand_to_board")
    assert "other means" in event.detail


@pytest.mark.parametrize("role", ["head", "itsa", "officer"])
def test_only_the_designee_hands_a_report_to_the_board(city, police_report, settings, role):
    """S2.5d: the head, ITSA and anyone else are refused, and the refusal is in the audit trail."""
    settings.BOARD_OF_ALDERMEN_EMAIL = BOARD
    with pytest.raises(NotAllowed):
        _hand(police_report, getattr(city, role))
    assert not BoardHandover.objects.exists()
    assert not OutgoingEmail.objects.filter(to=[BOARD]).exists()
    assert AuditEvent.objects.filter(action="report.hand_to_board", outcome="denied").exists()


def test_the_request_cannot_be_in_the_future_and_needs_its_reference(city, police_report):
    """S2.5d: the Board's request is a fact: a day that has come, and which request it was."""
    with pytest.raises(RuleViolation, match="future"):
        _hand(police_report, city.designee, requested_on=timezone.localdate() + timedelta(days=1))
    with pytest.raises(RuleViolation, match="request"):
        _hand(police_report, city.designee, request_reference="   ")
    assert not BoardHandover.objects.exists()


def test_a_report_whose_pdf_changed_is_not_handed_over(city, police_report, settings):
    """S2.5d: the Board gets the report as published, or nothing."""
    settings.BOARD_OF_ALDERMEN_EMAIL = BOARD
    PublishedReport.objects.filter(pk=police_report.pk).update(pdf_sha256="0" * 64)
    police_report.refresh_from_db()
    with pytest.raises(RuleViolation, match="fingerprint"):
        _hand(police_report, city.designee)
    assert not BoardHandover.objects.exists()


# --- The page ---------------------------------------------------------------------------------------

def _post(client, report, **data):
    return client.post(reverse("reports:hand_to_board", args=[report.pk]), {
        "requested_on": REQUESTED.isoformat(), "request_reference": "Letter of 3 November 2026", **data})


def test_the_designee_hands_the_report_from_its_page(city, police_report, client, settings,
                                                     django_capture_on_commit_callbacks):
    """S2.5d: the form on the report's page, and the handover listed there afterwards."""
    settings.BOARD_OF_ALDERMEN_EMAIL = BOARD
    client.force_login(city.designee)
    page = client.get(reverse("reports:detail", args=[police_report.pk])).content.decode()
    assert "Hand to the Board of Aldermen" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, police_report)
    assert response.status_code == 302
    assert any("mailed with its PDF" in text for text in messages_of(response, levels=False))
    assert BoardHandover.objects.get().sent_to == BOARD
    page = client.get(reverse("reports:detail", args=[police_report.pk])).content.decode()
    assert "Given to the Board of Aldermen on" in page
    assert "at its request of Nov 3, 2026" in page


def test_the_head_sees_the_handovers_but_no_form(city, police_report, client):
    """S2.5d: every reader of the report sees its handovers; only the designee gets the form."""
    _hand(police_report, city.designee)
    client.force_login(city.head)
    page = client.get(reverse("reports:detail", args=[police_report.pk])).content.decode()
    assert "Given to the Board of Aldermen on" in page
    assert "handed over by other means" in page
    assert 'action="' + reverse("reports:hand_to_board", args=[police_report.pk]) not in page


def test_the_head_posting_the_form_directly_is_refused(city, police_report, client):
    """S2.5d: the way around the missing form: the service refuses it."""
    client.force_login(city.head)
    response = _post(client, police_report)
    assert response.status_code == 302
    assert not BoardHandover.objects.exists()
    assert any("Only the Mayor's designee" in text for text in messages_of(response, levels=False))


def test_a_bad_date_is_a_message_not_an_error(city, police_report, client):
    """S2.5d: bad input is said on the page."""
    client.force_login(city.designee)
    response = _post(client, police_report, requested_on="not a date")
    assert response.status_code == 302
    assert not BoardHandover.objects.exists()
    assert any("not handed to the Board" in text for text in messages_of(response, levels=False))
