"""The Board of Aldermen is notified of substantive changes (S2.4b): publishing a version with a
substantive change e-mails the Board its substantive changes and records the notice."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from portal.errors import RuleViolation
from portal.models import AuditEvent, OutgoingEmail, PolicyVersion
from portal.policy import policy_change_add, policy_version_publish, policy_version_save

BOARD = "aldermen@city.example"
SUBSTANTIVE = ("2.2", "Adds public health as an intended use.", True)
CLERICAL = ("3.5", "Corrects a cross-reference to Section 3.4.", False)


def _draft(city, *changes, approved=True, notified=False):
    today = timezone.localdate()
    version = policy_version_save(version=PolicyVersion(
        number="1.1", title="Surveillance policy, version 1.1", summary="The City's surveillance policy.",
        effective_on=today, mayor_approved_on=today - timedelta(days=3) if approved else None,
        aldermen_notified_on=today - timedelta(days=2) if notified else None,
    ), by=city.designee)
    for section, description, substantive in changes:
        policy_change_add(version=version, section=section, description=description, substantive=substantive,
                          by=city.designee)
    return version


def _notices():
    return [message for message in mail.outbox if BOARD in message.to]


def _recorded_notices():
    """The notices in the outbox, sent or not: the tests without commit callbacks never send."""
    return [email for email in OutgoingEmail.objects.all() if BOARD in email.to]


@pytest.fixture
def board_address(settings):
    settings.BOARD_OF_ALDERMEN_EMAIL = BOARD


def test_publishing_a_substantive_version_notifies_the_board_after_commit_and_records_it(
        city, board_address, django_capture_on_commit_callbacks):
    """S2.4b: the notice is sent, with the version, its substantive changes and the public page, and recorded."""
    version = _draft(city, SUBSTANTIVE, CLERICAL)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        policy_version_publish(version=version, by=city.designee)
    assert _notices() == []
    for callback in callbacks:
        callback()

    [notice] = _notices()
    assert notice.to == [BOARD]
    assert "1.1" in notice.subject
    assert "Adds public health as an intended use." in notice.body
    assert "Corrects a cross-reference" not in notice.body  # only the substantive changes
    assert reverse("transparency:index") in notice.body
    version.refresh_from_db()
    assert version.is_published and version.aldermen_notice_sent_at is not None
    assert version.aldermen_notified_on == timezone.localdate()
    assert AuditEvent.objects.filter(action="policy_version.aldermen_notice", actor=city.designee,
                                     target=str(version), outcome="success").exists()


def test_a_date_of_notice_entered_before_is_kept_and_the_board_is_still_told(city, board_address):
    """S2.4b: the portal's notice goes with every substantive version it publishes."""
    version = _draft(city, SUBSTANTIVE, notified=True)
    entered = version.aldermen_notified_on

    policy_version_publish(version=version, by=city.designee)

    version.refresh_from_db()
    assert version.aldermen_notified_on == entered and version.aldermen_notice_sent_at is not None
    assert len(_recorded_notices()) == 1


def test_a_version_of_non_substantive_changes_sends_no_notice(city, board_address):
    """S2.4b: only substantive changes are notified to the Board."""
    version = _draft(city, CLERICAL, approved=False)

    policy_version_publish(version=version, by=city.designee)

    version.refresh_from_db()
    assert version.is_published and version.aldermen_notice_sent_at is None
    assert _recorded_notices() == []
    assert not AuditEvent.objects.filter(action__startswith="policy_version.aldermen_notice").exists()


def test_without_the_boards_address_a_substantive_version_not_notified_otherwise_is_refused(city, settings):
    """S2.4b: the way around: before, a substantive version was published and nobody told the Board
    unless somebody remembered to; now, with no address to send to and no notice entered, it is refused."""
    settings.BOARD_OF_ALDERMEN_EMAIL = ""
    version = _draft(city, SUBSTANTIVE)

    with pytest.raises(RuleViolation, match="BOARD_OF_ALDERMEN_EMAIL") as refusal:
        policy_version_publish(version=version, by=city.designee)

    assert "the date the Board of Aldermen was notified" in refusal.value.message
    version.refresh_from_db()
    assert not version.is_published
    assert AuditEvent.objects.filter(action="policy_version.publish", outcome="refused").exists()


def test_without_the_boards_address_a_notice_given_otherwise_is_recorded_as_not_sent_by_the_portal(city, settings):
    """S2.4b: the version publishes on the date of notice entered; the trail says the portal sent nothing."""
    settings.BOARD_OF_ALDERMEN_EMAIL = ""
    version = _draft(city, SUBSTANTIVE, notified=True)

    policy_version_publish(version=version, by=city.designee)

    version.refresh_from_db()
    assert version.is_published and version.aldermen_notice_sent_at is None
    assert _recorded_notices() == []
    event = AuditEvent.objects.get(action="policy_version.aldermen_notice_not_sent")
    assert "BOARD_OF_ALDERMEN_EMAIL" in event.detail


def test_the_mayors_approval_is_still_needed_with_the_boards_address(city, board_address):
    """S2.4: the notice never stands in for the Mayor's approval."""
    version = _draft(city, SUBSTANTIVE, approved=False)

    with pytest.raises(RuleViolation, match="the date the Mayor approved it") as refusal:
        policy_version_publish(version=version, by=city.designee)

    assert "Board of Aldermen was notified" not in refusal.value.message
    assert _recorded_notices() == []


def test_publishing_twice_sends_one_notice(city, board_address):
    """S2.4b"""
    version = _draft(city, SUBSTANTIVE)
    policy_version_publish(version=version, by=city.designee)

    policy_version_publish(version=version, by=city.designee)

    assert AuditEvent.objects.filter(action="policy_version.aldermen_notice").count() == 1
    assert len(_recorded_notices()) == 1
