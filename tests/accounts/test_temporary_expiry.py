"""The daily run of temporary access (Def.T: "Temporary" is less than thirty days): the person and
the department head are warned a week and a day before the end, each once; at 00:00, city time, on
the end date the grant is removed and ITSA is asked to close the account on the system (S3.5b)."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from access_requests.services import access_request_approve, access_request_provision, access_request_submit
from accounts import expiry
from accounts.models import Grant, User
from accounts.tasks import temporary_grants_daily as daily_task
from agreements.models import AgreementGrant, SharingAgreement
from portal.models import AuditEvent

CITY = ZoneInfo(settings.TIME_ZONE)
ENDS_IN_DAYS = 20


def temporary_grant(city, *, person=None, days=ENDS_IN_DAYS) -> Grant:
    """A temporary grant, asked for, approved and provisioned, ending `days` from today."""
    person = person or city.officer
    request = access_request_submit(
        department=city.police, person=person, system=city.vms, action="add", role="end_user",
        permissible_uses=[city.crime_detection], justification="Covers a colleague's leave.", by=city.requester,
        condition_statement="Case 26-004321, an active investigation, until the case closes.",
        ends_on=timezone.localdate() + timedelta(days=days),
    )
    request = access_request_approve(request=request, by=city.head)
    request = access_request_provision(request=request, by=city.itsa, account_name=f"temp-{person.pk}")
    return request.grant


def at(day, hour=0, minute=0):
    """An instant in city time."""
    return datetime.combine(day, time(hour, minute), tzinfo=CITY)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run the daily service at `now` and send what it enqueued; return (the run, the messages sent)."""
    def go(now):
        before = len(mail.outbox)
        with django_capture_on_commit_callbacks(execute=True):
            result = expiry.temporary_grants_daily(now=now)
        return result, mail.outbox[before:]
    return go


def test_the_person_and_the_head_are_warned_a_week_before_once_and_not_earlier(city, run):
    """Def.T: the week's warning goes out when 7 days are left, once, to the person and the head."""
    grant = temporary_grant(city)
    end = grant.ends_on

    result, sent = run(at(end - timedelta(days=8), 23, 59))
    assert sent == [] and result.counts()["warned_week"] == 0

    result, sent = run(at(end - timedelta(days=7), 0, 5))
    assert result.warned_week == [grant.pk]
    assert [sorted(message.to) for message in sent] == [sorted([city.officer.email, city.head.email])]
    assert "in 7 days" in sent[0].subject and city.vms.name in sent[0].subject
    assert f"00:00 on {end:%-d %B %Y}" in sent[0].body and grant.account_name in sent[0].body
    grant.refresh_from_db()
    assert grant.warned_week_at is not None and grant.warned_day_at is None

    for later in (at(end - timedelta(days=7), 13), at(end - timedelta(days=5)), at(end - timedelta(days=2), 23, 59)):
        result, sent = run(later)
        assert sent == [] and result.counts() == {"warned_week": 0, "warned_day": 0, "removed": 0, "failed": 0}


def test_the_days_warning_goes_out_once_the_day_before(city, run):
    """Def.T: the day's warning goes out when 1 day is left, once, to the person and the head."""
    grant = temporary_grant(city)
    end = grant.ends_on
    run(at(end - timedelta(days=7)))

    result, sent = run(at(end - timedelta(days=1), 0, 1))
    assert result.warned_day == [grant.pk] and result.warned_week == []
    assert [sorted(message.to) for message in sent] == [sorted([city.officer.email, city.head.email])]
    assert "tomorrow" in sent[0].subject

    result, sent = run(at(end - timedelta(days=1), 18))
    assert sent == [] and result.counts()["warned_day"] == 0
    grant.refresh_from_db()
    assert grant.warned_day_at is not None and grant.is_live
    assert AuditEvent.objects.filter(action="grant.temporary_warning", actor=None).count() == 2


def test_a_short_grant_gets_only_the_days_warning(city, run):
    """Def.T: access of one day is warned about once, the day before its end, never a 'week' after."""
    grant = temporary_grant(city, days=1)

    result, sent = run(at(grant.ends_on - timedelta(days=1), 9))
    assert result.warned_day == [grant.pk] and len(sent) == 1 and "tomorrow" in sent[0].subject
    result, sent = run(at(grant.ends_on - timedelta(days=1), 10))
    assert sent == []


def test_the_grant_is_removed_at_midnight_city_time_on_the_end_date_not_at_2359_the_day_before(city, run):
    """Def.T S3.5b: access ends at 00:00, city time, on the end date; ITSA is asked to close the account."""
    grant = temporary_grant(city)
    end = grant.ends_on

    result, sent = run(at(end - timedelta(days=1), 23, 59))
    grant.refresh_from_db()
    assert grant.status == Grant.Status.ACTIVE and result.removed == []

    result, sent = run(at(end, 0, 0))
    grant.refresh_from_db()
    assert result.removed == [grant.pk]
    assert grant.status == Grant.Status.REMOVED and grant.ended_at is not None
    itsa_mail = [message for message in sent if message.subject.startswith("Close account")]
    assert [sorted(message.to) for message in itsa_mail] == [sorted([city.itsa.email, city.itsa2.email])]
    body = itsa_mail[0].body
    for named in (grant.account_name, city.officer.full_name, city.vms.name, f"00:00 on {end:%-d %B %Y}"):
        assert named in body
    event = AuditEvent.objects.get(action="grant.temporary_ended")
    assert event.actor is None and f"grant {grant.pk}" in event.detail
    assert "temporary access ended" in grant.history.first().history_change_reason


def test_midnight_is_city_time_not_utc(city, run):
    """Def.T: 00:00 in the city, whatever the date is in UTC by then."""
    grant = temporary_grant(city)
    a_minute_before = at(grant.ends_on) - timedelta(minutes=1)
    if a_minute_before.astimezone(ZoneInfo("UTC")).date() != grant.ends_on:
        pytest.skip("the city is not west of UTC: its midnight comes before UTC's")

    run(a_minute_before)  # in UTC the end date has begun hours ago
    grant.refresh_from_db()
    assert grant.is_live

    run(at(grant.ends_on))
    grant.refresh_from_db()
    assert grant.status == Grant.Status.REMOVED


def test_a_second_run_after_the_end_changes_and_sends_nothing(city, run):
    """Def.T: the task runs every hour; the removal and ITSA's mail happen once."""
    grant = temporary_grant(city)
    run(at(grant.ends_on, 0, 10))
    events = AuditEvent.objects.count()

    result, sent = run(at(grant.ends_on, 1, 10))

    assert sent == [] and result.counts() == {"warned_week": 0, "warned_day": 0, "removed": 0, "failed": 0}
    assert AuditEvent.objects.count() == events


def test_the_task_uses_the_clock_of_now(city, monkeypatch, django_capture_on_commit_callbacks):
    """Def.T: the scheduled task, run in-process, removes a grant once the city's clock reaches the end."""
    grant = temporary_grant(city, days=2)
    monkeypatch.setattr("django.utils.timezone.now", lambda: at(grant.ends_on, 3))

    with django_capture_on_commit_callbacks(execute=True):
        counts = daily_task.delay().get()

    grant.refresh_from_db()
    assert counts["removed"] == 1 and grant.status == Grant.Status.REMOVED


def test_grants_under_a_sharing_agreement_are_left_alone(city, run):
    """Def.T S3.7: the end of a third party's access follows its sharing agreement, not this run."""
    today = timezone.localdate()
    agreement = SharingAgreement.objects.create(
        third_party="County Sheriff", category="law_enforcement", shared="Video.", conditions="Investigations.",
        department=city.police, starts_on=today, ends_on=today + timedelta(days=3), requested_by=city.head)
    deputy = User.objects.create_user(email="deputy@sheriff.example", full_name="Dee Deputy")
    shared = Grant.objects.create(
        person=deputy, system=city.vms, department=city.police, role="end_user", account_name="deputy",
        provisioned_at=timezone.now(), provisioned_by=city.itsa, ends_on=today + timedelta(days=3), view_only=True)
    AgreementGrant.objects.create(grant=shared, agreement=agreement)

    for day in (1, 2, 3, 4):
        result, sent = run(at(today + timedelta(days=day), 1))
        assert sent == [] and result.counts()["removed"] == 0

    shared.refresh_from_db()
    assert shared.status == Grant.Status.ACTIVE and shared.warned_week_at is None and shared.warned_day_at is None


def test_grants_without_an_end_date_are_left_alone(city, run):
    """Def.T: access without an end date is not temporary."""
    from conftest import provisioned

    grant = provisioned(city).grant

    result, sent = run(timezone.now() + timedelta(days=400))

    grant.refresh_from_db()
    assert grant.is_live and sent == []


def test_one_grant_that_fails_does_not_stop_the_others(city, run, monkeypatch, caplog):
    """Def.T: a failure is logged; the other grants are removed; the next run removes the one left."""
    first = temporary_grant(city, days=5)
    second = temporary_grant(city, person=city.analyst, days=5)
    real_set_status = expiry.grant_set_status

    def failing(*, grant, **kwargs):
        if grant.pk == first.pk:
            raise RuntimeError("the database said no")
        return real_set_status(grant=grant, **kwargs)

    monkeypatch.setattr(expiry, "grant_set_status", failing)
    result, sent = run(at(first.ends_on, 2))

    assert result.failed == [first.pk] and result.removed == [second.pk]
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.is_live and second.status == Grant.Status.REMOVED
    assert [m.subject for m in sent] == [f"Close account {second.account_name} on {city.vms.name}: temporary access "
                                         f"of {city.analyst.full_name} ended"]
    assert f"Temporary grant {first.pk} could not be handled" in caplog.text
    assert not AuditEvent.objects.filter(action="grant.temporary_ended", detail__startswith=f"grant {first.pk}:")

    monkeypatch.setattr(expiry, "grant_set_status", real_set_status)
    result, sent = run(at(first.ends_on, 3))
    first.refresh_from_db()
    assert result.removed == [first.pk] and first.status == Grant.Status.REMOVED and len(sent) == 1


def test_a_suspended_temporary_grant_is_not_warned_but_is_removed_at_the_end(city, run):
    """Def.T: a suspended grant is not in use, so nobody is warned; it still ends on its date."""
    grant = temporary_grant(city)
    Grant.objects.filter(pk=grant.pk).update(status=Grant.Status.SUSPENDED)

    result, sent = run(at(grant.ends_on - timedelta(days=1)))
    assert sent == []

    result, sent = run(at(grant.ends_on))
    grant.refresh_from_db()
    assert grant.status == Grant.Status.REMOVED and len(sent) == 1
