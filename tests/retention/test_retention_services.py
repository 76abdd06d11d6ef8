"""Retention extensions (S3.11) and the biometric flag (S3.12), through the services: who asks, the
bounds of every field, who decides (the Director of Public Safety, never on their own request), the
early end, the end at 00:00 city time, the review notice, and the retention in force by system."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.models import ITSA_GROUP, SAFETY_DIRECTOR_GROUP, SurveillanceSystem, User
from accounts.services import role_group
from retention.models import RetentionExtension
from retention.selectors import BIOMETRIC_FLAG, retention_by_system, retention_extensions_visible_to
from retention.services import retention_daily, retention_extension_decide, retention_extension_end, retention_extension_request, seed_demo_retention
from portal.errors import NotAllowed, RuleViolation
from portal.models import AuditEvent, OutgoingEmail

CITY_TZ = ZoneInfo("America/Chicago")
TODAY = date(2026, 6, 1)
Status = RetentionExtension.Status


def ask(city, **overrides):
    values = {
        "systems": [city.vms], "condition": "b", "justification": "Car break-ins recur on Main Street.",
        "starts_on": TODAY, "ends_on": TODAY + timedelta(days=180), "review_on": TODAY + timedelta(days=90),
        "by": city.head, "today": TODAY,
    }
    values.update(overrides)
    return retention_extension_request(**values)


def granted(city, directors, **overrides):
    return retention_extension_decide(extension=ask(city, **overrides), grant=True, reason="Condition (b) is met.",
                                      by=directors.safety, today=TODAY)


def refusals(action):
    return AuditEvent.objects.filter(action=action).exclude(outcome=AuditEvent.Outcome.SUCCESS)


def mails(subject_start):
    return list(OutgoingEmail.objects.filter(subject__startswith=subject_start).order_by("pk"))


def at_city_time(monkeypatch, *args):
    moment = datetime(*args, tzinfo=CITY_TZ)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    return moment


# --- Asking ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("days", "allowed"), [(30, False), (31, True), (90, True), (91, False)])
def test_retention_is_more_than_30_days_and_at_most_90(city, days, allowed):
    """S3.11: the order allows 90 days at most; 30 is no extension."""
    if allowed:
        assert ask(city, retention_days=days).retention_days == days
    else:
        with pytest.raises(RuleViolation) as refused:
            ask(city, retention_days=days)
        assert refused.value.field == "retention_days"
        assert not RetentionExtension.objects.exists()


@pytest.mark.parametrize(("length", "allowed"), [(1, True), (365, True), (366, False), (0, False), (-1, False)])
def test_an_extension_lasts_at_most_365_days_and_ends_after_it_starts(city, length, allowed):
    """S3.11: `ends_on` after `starts_on`, and at most 365 days later."""
    ends_on = TODAY + timedelta(days=length)
    review_on = TODAY
    if allowed:
        extension = ask(city, ends_on=ends_on, review_on=review_on)
        assert (extension.ends_on - extension.starts_on).days == length
    else:
        with pytest.raises(RuleViolation) as refused:
            ask(city, ends_on=ends_on, review_on=review_on)
        assert refused.value.field == "ends_on"


@pytest.mark.parametrize(("starts_on", "allowed"), [(TODAY - timedelta(days=1), False), (TODAY, True),
                                                     (TODAY + timedelta(days=1), True)])
def test_an_extension_does_not_start_in_the_past(city, starts_on, allowed):
    """S3.11"""
    overrides = {"starts_on": starts_on, "review_on": starts_on}
    if allowed:
        assert ask(city, **overrides).starts_on == starts_on
    else:
        with pytest.raises(RuleViolation) as refused:
            ask(city, **overrides)
        assert refused.value.field == "starts_on"


@pytest.mark.parametrize(("offset", "allowed"), [(-1, False), (0, True), (179, True), (180, False), (181, False)])
def test_the_review_date_falls_on_or_after_the_start_and_before_the_end(city, offset, allowed):
    """S3.11: the extension runs 180 days; its review is within them."""
    review_on = TODAY + timedelta(days=offset)
    if allowed:
        assert ask(city, review_on=review_on).review_on == review_on
    else:
        with pytest.raises(RuleViolation) as refused:
            ask(city, review_on=review_on)
        assert refused.value.field == "review_on"


@pytest.mark.parametrize("condition", ["", "d", None, "A"])
def test_a_condition_of_3_11_is_required(city, condition):
    """S3.11: conditions a, b or c, and nothing else."""
    with pytest.raises(RuleViolation) as refused:
        ask(city, condition=condition)
    assert refused.value.field == "condition"


@pytest.mark.parametrize("condition", ["a", "b", "c"])
def test_each_condition_of_3_11_may_be_cited(city, condition):
    """S3.11"""
    assert ask(city, condition=condition).condition == condition


@pytest.mark.parametrize("justification", ["", "   ", "\x00", "A" * 5001])
def test_a_justification_is_required_and_bounded(city, justification):
    """S3.11"""
    with pytest.raises(RuleViolation) as refused:
        ask(city, justification=justification)
    assert refused.value.field == "justification"


def test_at_least_one_system_is_named(city):
    """S3.11"""
    with pytest.raises(RuleViolation) as refused:
        ask(city, systems=[])
    assert refused.value.field == "systems"


def test_a_head_asks_for_the_systems_their_department_uses_and_the_director_hears(city, directors):
    """S3.11: the head of the police (department access to the VMS) asks; the Director of Public
    Safety gets the request by mail, the City Operations Director does not."""
    extension = ask(city, area="Main Street corridor, cameras 12 to 18")
    assert extension.status == Status.REQUESTED and extension.requested_by == city.head
    assert list(extension.systems.all()) == [city.vms]
    [mail] = mails("Retention extension requested")
    assert mail.to == [directors.safety.email]
    assert "(b) The same crimes continuously occur in the area" in mail.body
    assert AuditEvent.objects.filter(action="retention_extension.request", actor=city.head,
                                     outcome="success").count() == 1
    assert extension.history.count() >= 1


def test_a_head_cannot_ask_for_a_system_their_department_does_not_use(city):
    """S3.11: the police hold no department access to the plate readers; the streets head none to the VMS."""
    for who, system in ((city.head, city.lpr), (city.outsider, city.vms)):
        with pytest.raises(NotAllowed) as refused:
            ask(city, by=who, systems=[system])
        assert refused.value.field == "systems"
    assert not RetentionExtension.objects.exists()
    assert refusals("retention_extension.request").count() == 2


def test_itsa_asks_for_any_system(city):
    """S3.11"""
    extension = ask(city, by=city.itsa, systems=[city.lpr, city.traffic])
    assert set(extension.systems.all()) == {city.lpr, city.traffic}


@pytest.mark.parametrize("who", ["requester", "officer", "designee", "safety", "operations"])
def test_nobody_else_asks(city, directors, who):
    """S3.11: an authorized requester, an end user, the designee and the directors do not ask."""
    person = getattr(directors, who, None) or getattr(city, who)
    with pytest.raises(NotAllowed):
        ask(city, by=person)
    assert not RetentionExtension.objects.exists()
    assert refusals("retention_extension.request").get().actor == person


# --- Deciding --------------------------------------------------------------------------------------

def test_the_director_of_public_safety_grants_with_a_reason_and_the_asker_and_itsa_hear(city, directors):
    """S3.11: the decision names its decider."""
    extension = granted(city, directors)
    assert extension.status == Status.GRANTED
    assert extension.decided_by == directors.safety and extension.decided_at is not None
    assert extension.decision_reason == "Condition (b) is met."
    [mail] = mails("Retention extension granted")
    assert set(mail.to) == {city.head.email, city.itsa.email, city.itsa2.email}
    assert "Sasha Safety" in mail.body
    assert AuditEvent.objects.get(action="retention_extension.granted").actor == directors.safety


def test_the_director_denies_and_only_the_asker_hears(city, directors):
    """S3.11"""
    extension = retention_extension_decide(extension=ask(city), grant=False, reason="Crime rates are average.",
                                           by=directors.safety, today=TODAY)
    assert extension.status == Status.DENIED and extension.decided_by == directors.safety
    [mail] = mails("Retention extension denied")
    assert mail.to == [city.head.email]


@pytest.mark.parametrize("who", ["operations", "designee", "itsa", "head", "outsider"])
def test_only_the_director_of_public_safety_decides(city, directors, who):
    """S3.11: not the City Operations Director, not the designee, not ITSA, not the asker."""
    extension = ask(city)
    person = getattr(directors, who, None) or getattr(city, who)
    with pytest.raises(NotAllowed):
        retention_extension_decide(extension=extension, grant=True, reason="Yes.", by=person, today=TODAY)
    extension.refresh_from_db()
    assert extension.status == Status.REQUESTED and extension.decided_by is None
    assert refusals("retention_extension.decide").get().actor == person


def test_the_director_never_decides_their_own_request(city, directors):
    """S3.11: every decision names its decider, never the person who asked. A Director of Public
    Safety who also administers for ITSA asks; they cannot decide it, a second Director can."""
    directors.safety.groups.add(role_group(ITSA_GROUP))
    extension = ask(city, by=User.objects.get(pk=directors.safety.pk))
    with pytest.raises(NotAllowed, match="another Director of Public Safety"):
        retention_extension_decide(extension=extension, grant=True, reason="Mine.", by=directors.safety,
                                   today=TODAY)
    assert RetentionExtension.objects.get().status == Status.REQUESTED
    assert refusals("retention_extension.decide").get().detail == "own request"

    second = User.objects.create_user(email="deputy@city.example", full_name="Dee Deputy", password="x")
    second.groups.add(role_group(SAFETY_DIRECTOR_GROUP))
    extension = retention_extension_decide(extension=extension, grant=True, reason="Met.", by=second, today=TODAY)
    assert extension.status == Status.GRANTED and extension.decided_by == second != extension.requested_by


def test_a_second_submission_changes_nothing_and_a_decided_extension_stays_decided(city, directors):
    """S3.11"""
    extension = granted(city, directors)
    again = retention_extension_decide(extension=extension, grant=True, reason="Again.", by=directors.safety,
                                       today=TODAY)
    assert again.decision_reason == "Condition (b) is met."
    with pytest.raises(RuleViolation, match="already decided"):
        retention_extension_decide(extension=extension, grant=False, reason="Changed my mind.",
                                   by=directors.safety, today=TODAY)
    assert RetentionExtension.objects.get().status == Status.GRANTED
    assert len(mails("Retention extension granted")) == 1


def test_an_extension_whose_end_has_passed_is_not_granted(city, directors):
    """S3.11"""
    extension = ask(city, ends_on=TODAY + timedelta(days=10), review_on=TODAY)
    end_day = TODAY + timedelta(days=10)
    with pytest.raises(RuleViolation, match="end date has passed"):
        retention_extension_decide(extension=extension, grant=True, reason="Late.", by=directors.safety,
                                   today=end_day)
    assert retention_extension_decide(extension=extension, grant=True, reason="In time.", by=directors.safety,
                                      today=end_day - timedelta(days=1)).status == Status.GRANTED


def test_a_decision_needs_a_reason(city, directors):
    """S3.11"""
    extension = ask(city)
    with pytest.raises(RuleViolation) as refused:
        retention_extension_decide(extension=extension, grant=True, reason="  \x00 ", by=directors.safety,
                                   today=TODAY)
    assert refused.value.field == "reason"
    assert RetentionExtension.objects.get().status == Status.REQUESTED


# --- Ending early ----------------------------------------------------------------------------------

def test_the_director_ends_an_extension_early_with_a_reason(city, directors):
    """S3.11: the systems go back to 30 days; the asker, the Director and ITSA hear."""
    extension = granted(city, directors)
    ended = retention_extension_end(extension=extension, reason="The break-ins stopped.", by=directors.safety)
    assert ended.status == Status.EXPIRED and ended.ended_at is not None
    assert ended.decision_reason == "Condition (b) is met."
    assert (ended.end_reason, ended.ended_by) == ("The break-ins stopped.", directors.safety)
    [mail] = mails("Retention extension ended")
    assert set(mail.to) == {city.head.email, directors.safety.email, city.itsa.email, city.itsa2.email}
    assert "The break-ins stopped." in mail.body
    event = AuditEvent.objects.get(action="retention_extension.end")
    assert event.actor == directors.safety and "The break-ins stopped." in event.detail
    assert ended.history.first().history_change_reason == "Ended early"

    again = retention_extension_end(extension=extension, reason="Twice.", by=directors.safety)
    assert again.ended_at == ended.ended_at and "Twice." not in again.decision_reason
    assert len(mails("Retention extension ended")) == 1


@pytest.mark.parametrize("who", ["operations", "designee", "itsa", "head"])
def test_only_the_director_of_public_safety_ends_an_extension(city, directors, who):
    """S3.11"""
    extension = granted(city, directors)
    person = getattr(directors, who, None) or getattr(city, who)
    with pytest.raises(NotAllowed):
        retention_extension_end(extension=extension, reason="Stop.", by=person)
    assert RetentionExtension.objects.get().status == Status.GRANTED
    assert refusals("retention_extension.end").get().actor == person


def test_only_a_granted_extension_is_ended(city, directors):
    """S3.11"""
    extension = ask(city)
    with pytest.raises(RuleViolation, match="Only a granted extension"):
        retention_extension_end(extension=extension, reason="Stop.", by=directors.safety)
    assert RetentionExtension.objects.get().status == Status.REQUESTED


# --- The daily run ---------------------------------------------------------------------------------

def test_a_granted_extension_ends_at_midnight_city_time_on_its_end_day(city, directors, monkeypatch):
    """S3.11: 23:59:59 on the day before, it holds; at 00:00, city time, on `ends_on`, it ends, once."""
    extension = granted(city, directors, ends_on=date(2026, 7, 1), review_on=TODAY)
    RetentionExtension.objects.filter(pk=extension.pk).update(review_notice_sent_at=timezone.now())

    at_city_time(monkeypatch, 2026, 6, 30, 23, 59, 59)
    assert retention_daily() == {"ended": 0, "review_notices": 0}
    assert RetentionExtension.objects.get().status == Status.GRANTED

    at_city_time(monkeypatch, 2026, 7, 1, 0, 0, 0)
    assert retention_daily() == {"ended": 1, "review_notices": 0}
    extension.refresh_from_db()
    assert extension.status == Status.EXPIRED
    assert extension.ended_at == datetime(2026, 7, 1, tzinfo=CITY_TZ)
    [ending] = extension.history.filter(history_change_reason="Ended on its end date")
    assert ending.history_user is None and ending.status == Status.EXPIRED
    event = AuditEvent.objects.get(action="retention_extension.expire")
    assert event.actor is None and event.outcome == "success"
    [mail] = mails("Retention extension ended")
    assert {city.head.email, directors.safety.email} <= set(mail.to)
    assert "ended at 00:00, city time, on July 1, 2026" in mail.body

    history_rows = extension.history.count()
    assert retention_daily() == {"ended": 0, "review_notices": 0}
    at_city_time(monkeypatch, 2026, 7, 2, 3, 0, 0)
    assert retention_daily() == {"ended": 0, "review_notices": 0}
    assert extension.history.count() == history_rows
    assert len(mails("Retention extension ended")) == 1


def test_requested_and_denied_extensions_do_not_end_by_themselves(city, directors):
    """S3.11: only a granted extension has anything to end."""
    waiting = ask(city, ends_on=TODAY + timedelta(days=5), review_on=TODAY)
    denied = retention_extension_decide(extension=ask(city, ends_on=TODAY + timedelta(days=5), review_on=TODAY),
                                        grant=False, reason="No.", by=directors.safety, today=TODAY)
    assert retention_daily(today=TODAY + timedelta(days=6)) == {"ended": 0, "review_notices": 0}
    assert RetentionExtension.objects.get(pk=waiting.pk).status == Status.REQUESTED
    assert RetentionExtension.objects.get(pk=denied.pk).status == Status.DENIED


def test_the_director_hears_once_that_an_extension_is_due_for_review(city, directors):
    """S3.11: on `review_on`, one notice to the Director(s) of Public Safety; no history row for it."""
    extension = granted(city, directors, review_on=TODAY + timedelta(days=30))
    history_rows = extension.history.count()
    assert retention_daily(today=TODAY + timedelta(days=29)) == {"ended": 0, "review_notices": 0}
    assert not mails("Retention extension due for review")

    assert retention_daily(today=TODAY + timedelta(days=30)) == {"ended": 0, "review_notices": 1}
    assert retention_daily(today=TODAY + timedelta(days=30)) == {"ended": 0, "review_notices": 0}
    assert retention_daily(today=TODAY + timedelta(days=31)) == {"ended": 0, "review_notices": 0}
    [mail] = mails("Retention extension due for review")
    assert mail.to == [directors.safety.email]
    extension.refresh_from_db()
    assert extension.review_notice_sent_at is not None
    assert extension.history.count() == history_rows
    assert AuditEvent.objects.filter(action="retention_extension.review_due").count() == 1


def test_a_missed_review_day_is_caught_up_but_not_after_the_end(city, directors):
    """S3.11"""
    late = granted(city, directors, ends_on=TODAY + timedelta(days=40), review_on=TODAY + timedelta(days=30))
    too_late = granted(city, directors, ends_on=TODAY + timedelta(days=32), review_on=TODAY + timedelta(days=30))
    assert retention_daily(today=TODAY + timedelta(days=35)) == {"ended": 1, "review_notices": 1}
    assert RetentionExtension.objects.get(pk=late.pk).review_notice_sent_at is not None
    assert RetentionExtension.objects.get(pk=too_late.pk).review_notice_sent_at is None


# --- The retention in force and the biometric flag -------------------------------------------------

def _by_code(rows):
    return {row.system.code: row for row in rows}


def test_every_system_keeps_30_days_unless_an_extension_is_in_force(city, directors):
    """S3.11: the longest extension in force wins; one not yet started, or past its end, does not count."""
    rows = _by_code(retention_by_system(today=TODAY))
    assert {code: row.days for code, row in rows.items()} == {"vms": 30, "lpr": 30, "traffic": 30}
    assert not any(row.is_extended for row in rows.values())

    sixty = granted(city, directors, retention_days=60)
    ninety = granted(city, directors, retention_days=90, ends_on=TODAY + timedelta(days=20), review_on=TODAY)
    later = granted(city, directors, retention_days=75, starts_on=TODAY + timedelta(days=1),
                    review_on=TODAY + timedelta(days=1))
    ask(city, retention_days=90, systems=[city.lpr], by=city.itsa)  # asked, not granted

    rows = _by_code(retention_by_system(today=TODAY))
    assert rows["vms"].days == 90 and rows["vms"].extension == ninety
    assert rows["lpr"].days == 30 and rows["lpr"].extension is None
    # The next day the 75 days have started; the ninety days still hold.
    assert _by_code(retention_by_system(today=TODAY + timedelta(days=1)))["vms"].extension == ninety
    # At 00:00 on the ninety days' end day, the 75 days are the longest in force, then nothing is.
    rows = _by_code(retention_by_system(today=TODAY + timedelta(days=20)))
    assert rows["vms"].days == 75 and rows["vms"].extension == later
    assert _by_code(retention_by_system(today=TODAY + timedelta(days=179)))["vms"].extension == later
    rows = _by_code(retention_by_system(today=TODAY + timedelta(days=180)))
    assert rows["vms"].days == 30 and rows["vms"].extension is None
    assert sixty.status == Status.GRANTED


def test_a_biometric_system_is_flagged_for_minimal_retention(city):
    """S3.12: biometric data is kept only for the minimum period of its use; no extension covers it."""
    face = SurveillanceSystem.objects.create(name="Face Matching", code="face", kind="biometric",
                                             uses_biometrics=True)
    rows = _by_code(retention_by_system(today=TODAY))
    assert rows["face"].biometric_flag == BIOMETRIC_FLAG
    assert BIOMETRIC_FLAG == ("Biometric data (3.12): kept only for the minimum period of its use; "
                              "no extension covers it.")
    assert rows["vms"].biometric_flag == "" and face.uses_biometrics


def test_an_extension_naming_a_biometric_system_covers_its_surveillance_data_only(city, directors):
    """S3.11 S3.12: allowed, but the audit record and every mail say the biometric data is not covered."""
    face = SurveillanceSystem.objects.create(name="Face Matching", code="face", kind="biometric",
                                             uses_biometrics=True)
    extension = ask(city, by=city.itsa, systems=[city.vms, face])
    granted_extension = retention_extension_decide(extension=extension, grant=True, reason="Met.",
                                                   by=directors.safety, today=TODAY)
    request_event = AuditEvent.objects.get(action="retention_extension.request")
    assert "S3.12: does not cover the biometric data of Face Matching" in request_event.detail
    assert "S3.12" in AuditEvent.objects.get(action="retention_extension.granted").detail
    for mail in mails("Retention extension"):
        assert "does not cover the biometric data of Face Matching" in mail.body
    rows = _by_code(retention_by_system(today=TODAY))
    assert rows["face"].days == 90 and rows["face"].biometric_flag == BIOMETRIC_FLAG
    assert granted_extension.status == Status.GRANTED


def test_an_extension_without_a_biometric_system_says_nothing_of_biometric_data(city, directors):
    """S3.12"""
    granted(city, directors)
    assert "S3.12" not in AuditEvent.objects.get(action="retention_extension.request").detail
    assert all("biometric" not in mail.body for mail in mails("Retention extension"))


# --- Who sees what ---------------------------------------------------------------------------------

def test_directors_designees_and_itsa_see_every_extension_heads_their_own_nobody_else(city, directors):
    """S3.11"""
    mine = ask(city)
    itsa_asked = ask(city, by=city.itsa, systems=[city.lpr])
    everything = {mine.pk, itsa_asked.pk}
    for person in (directors.safety, directors.operations, city.designee, city.itsa, city.itsa2):
        assert set(retention_extensions_visible_to(person).values_list("pk", flat=True)) == everything
    assert list(retention_extensions_visible_to(city.head)) == [mine]
    for person in (city.outsider, city.requester, city.officer, city.streets_worker):
        assert not retention_extensions_visible_to(person).exists()


# --- Demo ------------------------------------------------------------------------------------------

def test_the_demo_extension_is_granted_once(city, directors):
    """S3.11"""
    first = seed_demo_retention(asked_by=city.head, decided_by=directors.safety, systems=[city.vms],
                                area="District 3: Main Street cameras", today=TODAY)
    again = seed_demo_retention(asked_by=city.head, decided_by=directors.safety, systems=[city.vms],
                                area="District 3: Main Street cameras", today=TODAY)
    assert first == again and RetentionExtension.objects.count() == 1
    assert first.status == Status.GRANTED and first.condition == "b" and first.retention_days == 90
    assert first.requested_by == city.head and first.decided_by == directors.safety
