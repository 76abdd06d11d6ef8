"""Accounts that should not exist (S3.10): each night the live grants unused on their system, those of
people deactivated or gone, and those with no approved access request are reported to ITSA and, by
setting, suspended once, with the ITSA work to suspend the account on the system. The systems' reports
of last use feed the check."""

from datetime import datetime, time, timedelta
from datetime import timezone as dt_timezone

import pytest
from conftest import provisioned
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from access_requests import hygiene, tasks
from access_requests.hygiene import Kind, find_accounts_that_should_not_exist, grant_hygiene_run
from accounts.models import Grant, User
from accounts.services import grant_set_status
from security.services import grant_suspend
from portal.celery import app
from portal.errors import NotAllowed
from portal.models import AuditEvent, OutgoingEmail
from access_requests.models import AccessRequest
from access_requests.services import access_request_provision, may_provision, status_change_report

SUBJECT = "Grant check:"


def _noon(days_ago: int) -> datetime:
    return timezone.make_aware(datetime.combine(timezone.localdate() - timedelta(days=days_ago), time(12)))


def _set(grant: Grant, **fields) -> Grant:
    Grant.objects.filter(pk=grant.pk).update(**fields)
    grant.refresh_from_db()
    return grant


def _hand_made(city, person, *, system=None, role=Grant.Role.END_USER, **fields) -> Grant:
    """A grant entered without a request, as an import or the admin would."""
    fields.setdefault("department", person.department or city.police)
    return Grant.objects.create(
        person=person, system=system or city.vms, role=role,
        account_name=f"hand-{person.pk}-{role}", provisioned_at=fields.pop("provisioned_at", timezone.now()),
        provisioned_by=city.itsa, **fields,
    )


def _kinds(grant: Grant, findings=None) -> set[str]:
    findings = find_accounts_that_should_not_exist() if findings is None else findings
    return {finding.kind for finding in findings if finding.grant.pk == grant.pk}


def _reports():
    return [message for message in mail.outbox if message.subject.startswith(SUBJECT)]


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return grant_hygiene_run(**kwargs)
    return run


# --- What counts as a finding -------------------------------------------------------------------

def test_a_grant_in_use_held_by_an_active_person_and_approved_is_no_finding(city, grant):
    """S3.10"""
    _set(grant, last_used_at=_noon(1))

    assert find_accounts_that_should_not_exist() == []


@pytest.mark.parametrize("days, found", [(89, False), (90, True), (91, True)])
def test_a_grant_is_unused_once_its_last_use_is_90_days_old(city, grant, days, found):
    """S3.10: unused for 90 days or more."""
    _set(grant, last_used_at=_noon(days))

    assert (Kind.UNUSED in _kinds(grant)) is found


@pytest.mark.parametrize("days, found", [(89, False), (90, True), (91, True)])
def test_a_grant_never_used_counts_from_the_day_it_was_provisioned(city, grant, days, found):
    """S3.10"""
    _set(grant, provisioned_at=_noon(days))

    [*findings] = find_accounts_that_should_not_exist()
    assert (Kind.UNUSED in _kinds(grant, findings)) is found
    if found:
        assert f"Never used on {city.vms} since it was provisioned" in findings[0].reason
        assert f"{days} days; the limit is 90" in findings[0].reason


def test_a_recent_use_clears_an_old_provisioning(city, grant):
    """S3.10"""
    _set(grant, provisioned_at=_noon(400), last_used_at=_noon(10))

    assert _kinds(grant) == set()


def test_the_unused_period_is_a_setting(city, grant, settings):
    """S3.10"""
    settings.GRANT_HYGIENE_UNUSED_DAYS = 30
    _set(grant, last_used_at=_noon(30))

    [finding] = find_accounts_that_should_not_exist()
    assert finding.kind == Kind.UNUSED and "the limit is 30" in finding.reason
    assert finding.reason.startswith(f"Not used on {city.vms} since ")


def test_the_day_counts_in_the_city_not_in_utc(city, grant):
    """S3.10: a use late in the evening of the 90th day before today is 90 days old, whatever UTC says."""
    evening = timezone.make_aware(datetime.combine(timezone.localdate() - timedelta(days=89), time(23, 59)))
    _set(grant, last_used_at=evening)

    assert _kinds(grant) == set()
    assert Kind.UNUSED in _kinds(grant, find_accounts_that_should_not_exist(
        today=timezone.localdate() + timedelta(days=1)))


def test_the_grants_of_a_deactivated_person_are_found(city, grant):
    """S3.10 S3.5c"""
    User.objects.filter(pk=city.officer.pk).update(is_active=False)

    [finding] = find_accounts_that_should_not_exist()
    assert finding.kind == Kind.PERSON_GONE
    assert finding.reason == f"{city.officer} is deactivated in the portal."


def test_the_grants_of_a_person_who_left_the_city_are_found(city, grant):
    """S3.10 S3.5c: the head reported it, and the removal waits in the ITSA queue."""
    status_change_report(person=city.officer, kind="left", effective_date=timezone.localdate(), note="", by=city.head)

    [finding] = find_accounts_that_should_not_exist()
    assert finding.kind == Kind.PERSON_GONE
    assert finding.reason == f"{city.officer} has left the city."


@pytest.mark.parametrize("kind", ["on_leave", "transferred"])
def test_leave_and_transfer_are_not_this_checks_business(city, grant, kind):
    """S3.5c: they go to ITSA as status changes; the person is still employed."""
    status_change_report(person=city.officer, kind=kind, effective_date=timezone.localdate(), note="", by=city.head)

    assert _kinds(grant) == set()


def test_a_grant_made_by_hand_has_no_approved_request(city, grant):
    """S3.10 S3.4c S3.5b: every grant traces to an approved access request."""
    by_hand = _hand_made(city, city.analyst)

    findings = find_accounts_that_should_not_exist()
    assert _kinds(by_hand, findings) == {Kind.NO_REQUEST}
    assert _kinds(grant, findings) == set()
    assert "No approved access request" in findings[0].reason


def test_an_approved_change_makes_a_hand_made_grant_traceable(city):
    """S3.4c S3.5b"""
    by_hand = _hand_made(city, city.analyst)
    provisioned(city, person=city.analyst, action="change", uses=[city.crime_detection, city.investigations])

    assert _kinds(by_hand) == set()


def test_a_suspension_request_does_not_approve_a_hand_made_grant(city):
    """S3.4c: only an add or a change, approved and provisioned, puts a grant in place."""
    by_hand = _hand_made(city, city.analyst)
    provisioned(city, person=city.analyst, action="suspend")

    assert _set(by_hand).status == Grant.Status.SUSPENDED
    assert _kinds(by_hand) == {Kind.NO_REQUEST}


def test_one_grant_can_be_several_findings(city):
    """S3.10"""
    by_hand = _hand_made(city, city.analyst, provisioned_at=_noon(120))
    User.objects.filter(pk=city.analyst.pk).update(is_active=False)

    assert _kinds(by_hand) == {Kind.UNUSED, Kind.PERSON_GONE, Kind.NO_REQUEST}


def test_removed_grants_are_never_found(city, grant):
    """S3.10: a removed account already does not exist."""
    by_hand = _hand_made(city, city.analyst, provisioned_at=_noon(400))
    with transaction.atomic():
        grant_set_status(grant=grant, status=Grant.Status.REMOVED, by=city.itsa)
        grant_set_status(grant=by_hand, status=Grant.Status.REMOVED, by=city.itsa)
    User.objects.filter(pk__in=[city.officer.pk, city.analyst.pk]).update(is_active=False)

    assert find_accounts_that_should_not_exist() == []


def test_suspended_grants_are_still_found(city, grant):
    """S3.10: a suspended account still exists on the system."""
    with transaction.atomic():
        grant_set_status(grant=grant, status=Grant.Status.SUSPENDED, by=city.itsa)
    _set(grant, last_used_at=_noon(100))

    assert _kinds(grant) == {Kind.UNUSED}


@pytest.mark.parametrize("count", [5, 30])
def test_finding_takes_one_query_whatever_the_number_of_grants(city, count, django_assert_max_num_queries):
    """S3.10"""
    for number in range(count):
        person = User.objects.create_user(email=f"p{number}@police.example", full_name=f"Pat {number:02d}",
                                          department=city.police, is_active=number % 3 != 0)
        _hand_made(city, person, provisioned_at=_noon(100 if number % 2 else 1))

    with django_assert_max_num_queries(1):
        findings = find_accounts_that_should_not_exist()
        reasons = [finding.reason for finding in findings] + [str(finding.grant) for finding in findings]

    assert len({finding.grant.pk for finding in findings}) == count
    assert len(reasons) == 2 * len(findings)


# --- The run: audit trail, report, suspension -----------------------------------------------------

def test_report_only_records_each_finding_and_mails_itsa_but_changes_no_grant(city, grant, run):
    """S3.10: GRANT_HYGIENE_SUSPEND is off by default."""
    by_hand = _hand_made(city, city.analyst, provisioned_at=_noon(95))
    history = by_hand.history.count()

    result = run()

    assert not result.suspend and result.suspended == []
    assert _set(by_hand).status == Grant.Status.ACTIVE and by_hand.hygiene_suspended_at is None
    assert by_hand.history.count() == history
    assert not AccessRequest.objects.filter(action=AccessRequest.Action.SUSPEND).exists()
    events = AuditEvent.objects.filter(action="grant.hygiene.finding")
    assert events.count() == 2 == len(result.findings)
    assert {event.target for event in events} == {str(by_hand)}
    assert all(f"grant {by_hand.pk}" in event.detail for event in events)
    summary = AuditEvent.objects.get(action="grant.hygiene.run")
    assert summary.detail.startswith("2 findings on 1 grants") and "report only" in summary.detail
    [report] = _reports()
    assert sorted(report.to) == sorted([city.itsa.email, city.itsa2.email])
    assert report.subject == "Grant check: 2 findings on 1 grant"
    assert "Report only: no grant was changed." in report.body
    assert city.analyst.email in report.body and by_hand.account_name in report.body
    assert by_hand.get_absolute_url() in report.body
    assert "Never used on Citywide VMS" in report.body and "No approved access request" in report.body


def test_with_nothing_found_the_run_is_recorded_and_nobody_is_mailed(city, grant, run):
    """S3.10"""
    result = run()

    assert result.findings == []
    assert AuditEvent.objects.filter(action="grant.hygiene.run").count() == 1
    assert _reports() == []


def test_with_suspension_on_each_active_grant_found_is_suspended_with_history_audit_and_itsa_work(
    city, grant, run, settings
):
    """S3.10 S3.5b: suspended in the portal at once; ITSA suspends the account on the system."""
    settings.GRANT_HYGIENE_SUSPEND = True
    _set(grant, last_used_at=_noon(120))

    result = run()

    assert result.suspended == [grant]
    grant.refresh_from_db()
    assert grant.status == Grant.Status.SUSPENDED and grant.hygiene_suspended_at is not None
    latest = grant.history.latest()
    assert latest.status == Grant.Status.SUSPENDED
    assert latest.history_change_reason == f"suspended by {hygiene.NIGHTLY_CHECK}"
    [work] = AccessRequest.objects.filter(action=AccessRequest.Action.SUSPEND)
    assert work.grant == grant and work.status == AccessRequest.Status.WITH_ITSA
    assert "Not used on Citywide VMS" in work.justification
    assert AuditEvent.objects.filter(action="grant.hygiene.suspend", target=str(grant)).count() == 1
    assert "1 suspended" in AuditEvent.objects.get(action="grant.hygiene.run").detail
    [report] = _reports()
    assert report.subject == "Grant check: 1 finding on 1 grant, 1 suspended"
    assert "suspended now" in report.body and "/requests/queue/" in report.body


def test_a_grant_is_suspended_once_and_reported_each_night_the_finding_persists(city, grant, run):
    """S3.10"""
    _set(grant, last_used_at=_noon(120))

    first = run(suspend=True)
    second = run(suspend=True)

    assert first.suspended == [grant] and second.suspended == []
    assert grant.history.filter(status=Grant.Status.SUSPENDED).count() == 1
    assert AccessRequest.objects.filter(action=AccessRequest.Action.SUSPEND).count() == 1
    assert AuditEvent.objects.filter(action="grant.hygiene.suspend").count() == 1
    assert AuditEvent.objects.filter(action="grant.hygiene.finding").count() == 2
    assert len(_reports()) == 2
    assert "already suspended" in _reports()[1].body


def test_a_grant_active_again_after_the_check_suspended_it_is_reported_but_not_suspended_again(city, grant, run):
    """S3.10: ITSA's decision to reinstate stands."""
    _set(grant, last_used_at=_noon(120))
    run(suspend=True)
    with transaction.atomic():
        grant_set_status(grant=grant, status=Grant.Status.ACTIVE, by=city.itsa)

    again = run(suspend=True)

    assert again.suspended == [] and _set(grant).status == Grant.Status.ACTIVE
    assert "not suspended again" in _reports()[-1].body


def test_a_grant_already_suspended_otherwise_is_left_as_it_is(city, grant, run):
    """S3.10"""
    with transaction.atomic():
        grant_set_status(grant=grant, status=Grant.Status.SUSPENDED, by=city.itsa)
    _set(grant, last_used_at=_noon(120))
    history = grant.history.count()

    result = run(suspend=True)

    assert result.suspended == [] and grant.history.count() == history
    assert _set(grant).hygiene_suspended_at is None
    assert not AccessRequest.objects.filter(action=AccessRequest.Action.SUSPEND).exists()


def test_the_itsa_work_is_filed_by_the_head_so_no_itsa_administrator_closes_their_own_account(city, run):
    """S3.5b: the work is never filed by the ITSA administrator who carries it out, and nobody
    provisions their own access: here ITSA's own hand-made grant, suspended by the check."""
    own = _hand_made(city, city.itsa2, system=city.lpr, role=Grant.Role.ADMINISTRATOR, department=city.police)

    run(suspend=True, by=city.itsa)

    [work] = AccessRequest.objects.filter(grant=own, action=AccessRequest.Action.SUSPEND)
    assert work.requested_by == city.head
    assert not may_provision(request=work, user=city.itsa2)
    assert may_provision(request=work, user=city.itsa)
    done = access_request_provision(request=work, by=city.itsa)
    assert done.status == AccessRequest.Status.COMPLETED
    assert _set(own).status == Grant.Status.SUSPENDED


def test_without_an_active_head_at_night_the_report_asks_itsa_to_suspend_the_account_by_hand(city, grant, run):
    """S3.5b"""
    _set(grant, last_used_at=_noon(120))
    type(city.police).objects.filter(pk=city.police.pk).update(head=None)

    result = run(suspend=True)

    assert result.suspended == [grant]
    assert not AccessRequest.objects.filter(action=AccessRequest.Action.SUSPEND).exists()
    assert "suspend the account on the system by hand" in _reports()[0].body


def test_a_removal_already_on_its_way_gets_no_second_task(city, grant, run):
    """S3.5c: the head reported that the officer left; ITSA already has the removal."""
    status_change_report(person=city.officer, kind="left", effective_date=timezone.localdate(), note="", by=city.head)

    result = run(suspend=True)

    assert result.suspended == [grant]
    assert list(AccessRequest.objects.filter(grant=grant, status=AccessRequest.Status.WITH_ITSA)
                .values_list("action", flat=True)) == [AccessRequest.Action.REMOVE]
    [removal] = AccessRequest.objects.filter(grant=grant, action=AccessRequest.Action.REMOVE)
    access_request_provision(request=removal, by=city.itsa)
    assert _set(grant).status == Grant.Status.REMOVED


def test_a_rolled_back_run_leaves_no_mail_no_record_and_no_suspension(city, grant, django_capture_on_commit_callbacks):
    """S3.10: mail goes only after the commit."""
    _set(grant, last_used_at=_noon(120))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            grant_hygiene_run(suspend=True)
            raise RuntimeError("the database went away")

    assert callbacks == [] and mail.outbox == []
    assert not OutgoingEmail.objects.filter(subject__startswith=SUBJECT).exists()
    assert not AuditEvent.objects.filter(action__startswith="grant.hygiene").exists()
    assert _set(grant).status == Grant.Status.ACTIVE and grant.hygiene_suspended_at is None
    assert not AccessRequest.objects.filter(action=AccessRequest.Action.SUSPEND).exists()


def test_a_run_that_fails_half_way_suspends_nothing(city, grant, run, monkeypatch):
    """S3.10: one transaction: the first suspension goes back with the failure of the second."""
    _set(grant, last_used_at=_noon(120))
    second = provisioned(city, person=city.analyst).grant
    _set(second, last_used_at=_noon(120))
    calls = []

    def failing(**kwargs):
        calls.append(kwargs["grant"])
        if len(calls) == 2:
            raise RuntimeError("the system did not answer")
        return grant_suspend(**kwargs)

    monkeypatch.setattr(hygiene, "grant_suspend", failing)
    with pytest.raises(RuntimeError):
        run(suspend=True)

    assert len(calls) == 2
    assert {_set(g).status for g in (grant, second)} == {Grant.Status.ACTIVE}
    assert mail.outbox == [] and not OutgoingEmail.objects.filter(subject__startswith=SUBJECT).exists()


def test_only_itsa_may_run_the_check(city, grant, run):
    """S3.5b S3.10: a refusal is on the record."""
    with pytest.raises(NotAllowed):
        run(by=city.head, suspend=True)

    assert AuditEvent.objects.filter(action="grant.hygiene.run", actor=city.head, outcome="denied").count() == 1
    assert not AuditEvent.objects.filter(action="grant.hygiene.finding").exists()


# --- The nightly task and the command -------------------------------------------------------------

def test_the_check_runs_each_night(city):
    """S3.10"""
    from django.conf import settings

    [entry] = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "access_requests.tasks.grant_hygiene"]
    assert entry["schedule"].hour == {2}
    assert "access_requests.tasks.grant_hygiene" in app.tasks


def test_the_nightly_task_reports_and_by_setting_suspends(city, grant, settings, django_capture_on_commit_callbacks):
    """S3.10"""
    _set(grant, last_used_at=_noon(120))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.grant_hygiene.delay().get() == 1
    assert _set(grant).status == Grant.Status.ACTIVE

    settings.GRANT_HYGIENE_SUSPEND = True
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.grant_hygiene.delay().get() == 1

    assert _set(grant).status == Grant.Status.SUSPENDED
    assert len(_reports()) == 2


def test_the_command_prints_the_findings_and_exits_zero(city, grant, capsys):
    """S3.10"""
    by_hand = _hand_made(city, city.analyst)

    call_command("grant_hygiene")

    out = capsys.readouterr().out
    header, rule, line = out.splitlines()[:3]
    assert header.split() == ["Grant", "Person", "System", "Role", "Account", "State", "Finding", "Reason"]
    assert set(rule.replace(" ", "")) == {"-"}
    for text in (str(by_hand.pk), str(city.analyst), "Citywide VMS", "End user", by_hand.account_name, "active",
                 "No approved request", "No approved access request is on file"):
        assert text in line
    assert "1 finding on 1 grant." in out and "Report only" in out
    assert AuditEvent.objects.filter(action="grant.hygiene.finding").count() == 1
    assert _set(by_hand).status == Grant.Status.ACTIVE


def test_the_command_suspends_when_asked(city, grant, capsys):
    """S3.10"""
    _set(grant, last_used_at=_noon(120))

    call_command("grant_hygiene", "--suspend")

    out = capsys.readouterr().out
    assert "suspended now" in out and "1 grant suspended now." in out
    assert _set(grant).status == Grant.Status.SUSPENDED


def test_a_dry_run_lists_the_findings_and_records_nothing(city, grant, capsys):
    """S3.10"""
    _set(grant, last_used_at=_noon(120))

    call_command("grant_hygiene", "--dry-run", "--suspend")

    out = capsys.readouterr().out
    assert "Not used on Citywide VMS" in out and "Dry run" in out
    assert not AuditEvent.objects.filter(action__startswith="grant.hygiene").exists()
    assert not OutgoingEmail.objects.filter(subject__startswith=SUBJECT).exists()
    assert _set(grant).status == Grant.Status.ACTIVE


def test_the_command_says_when_there_is_nothing_to_report(city, grant, capsys):
    """S3.10"""
    call_command("grant_hygiene")

    assert "No finding" in capsys.readouterr().out


# --- Last use, from the systems' reports ----------------------------------------------------------

@pytest.fixture
def csv_file(tmp_path):
    def write(text: str):
        path = tmp_path / "use.csv"
        path.write_text(text, encoding="utf-8")
        return str(path)
    return write


def test_it_records_the_last_use_from_dates_and_dates_with_times(city, grant, csv_file, capsys):
    """S3.10"""
    analyst = provisioned(city, person=city.analyst).grant
    administrator = _hand_made(city, city.requester, system=city.lpr, role=Grant.Role.ADMINISTRATOR)
    day = timezone.localdate() - timedelta(days=3)
    path = csv_file(
        "system_code,account_name,last_used_at\n"
        f"vms,{grant.account_name},{day.isoformat()}\n"
        f"vms,{analyst.account_name},{day.isoformat()}T14:05:00Z\n"
        f"lpr,{administrator.account_name},{day.isoformat()} 09:30\n"
    )

    call_command("record_grant_use", path)

    assert _set(grant).last_used_at == timezone.make_aware(datetime.combine(day, time.min))
    assert _set(analyst).last_used_at == datetime.combine(day, time(14, 5), tzinfo=dt_timezone.utc)
    assert _set(administrator).last_used_at == timezone.make_aware(datetime.combine(day, time(9, 30)))
    assert "3 rows read: 3 updated, 0 not newer than the last use on record, 0 unknown." in capsys.readouterr().out
    assert AuditEvent.objects.filter(action="grant.use_recorded").count() == 1


def test_the_last_use_never_moves_backwards(city, grant, csv_file, capsys):
    """S3.10: a late or repeated report cannot make a used account look newer or older than it is."""
    recent = _noon(2)
    _set(grant, last_used_at=recent)
    older, newer = (timezone.localdate() - timedelta(days=d) for d in (30, 1))
    path = csv_file(
        f"vms,{grant.account_name},{older.isoformat()}\n"
        f"vms,{grant.account_name},{newer.isoformat()}T08:00\n"
        f"vms,{grant.account_name},{older.isoformat()}\n"
    )

    call_command("record_grant_use", path)

    assert _set(grant).last_used_at == timezone.make_aware(datetime.combine(newer, time(8)))
    assert "3 rows read: 1 updated, 2 not newer" in capsys.readouterr().out


def test_unknown_systems_and_accounts_are_listed_and_skipped(city, grant, csv_file, capsys):
    """S3.10: the rest of the file still counts."""
    removed = provisioned(city, person=city.analyst).grant
    with transaction.atomic():
        grant_set_status(grant=removed, status=Grant.Status.REMOVED, by=city.itsa)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    path = csv_file(
        f"nope,{grant.account_name},{yesterday}\n"
        f"vms,nobody,{yesterday}\n"
        f"vms,{removed.account_name},{yesterday}\n"
        f"vms,{grant.account_name.upper()},{yesterday}\n"
    )

    call_command("record_grant_use", path)

    out = capsys.readouterr().out
    assert f"Line 1: skipped, no system with this code: nope,{grant.account_name}" in out
    assert "Line 2: skipped, no live grant with this account name on the system: vms,nobody" in out
    assert f"Line 3: skipped, no live grant with this account name on the system: vms,{removed.account_name}" in out
    assert "4 rows read: 1 updated, 0 not newer than the last use on record, 3 unknown." in out
    assert _set(grant).last_used_at is not None and _set(removed).last_used_at is None


@pytest.mark.parametrize("value, problem", [
    ("yesterday", "“yesterday” is not a date (2026-03-01) or a date and time"),
    ("2026-02-30", "“2026-02-30” is not a date"),
    ("", "“” is not a date"),
    ("2999-01-01", "“2999-01-01” is in the future."),
])
def test_a_bad_date_refuses_the_whole_file_and_names_the_line(city, grant, csv_file, value, problem):
    """S3.10"""
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    path = csv_file(f"vms,{grant.account_name},{yesterday}\n\nvms,{grant.account_name},{value}\n")

    with pytest.raises(CommandError) as refusal:
        call_command("record_grant_use", path)

    assert f"Line 3: {problem}" in str(refusal.value) and "Nothing recorded" in str(refusal.value)
    assert _set(grant).last_used_at is None
    assert not AuditEvent.objects.filter(action="grant.use_recorded").exists()


def test_a_row_with_the_wrong_number_of_values_is_refused(city, grant, csv_file):
    """S3.10"""
    path = csv_file(f"vms,{grant.account_name}\n")

    with pytest.raises(CommandError, match=r"Line 1: expected 3 values \(system_code,account_name,last_used_at\), "
                                           r"found 2\."):
        call_command("record_grant_use", path)


def test_a_missing_file_is_a_clear_error(city, tmp_path):
    """S3.10"""
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("record_grant_use", str(tmp_path / "missing.csv"))


def test_a_recorded_use_keeps_the_grant_timeline_clean_and_clears_the_unused_finding(city, grant, csv_file):
    """S3.10: use is reported every day; it is not a change to the grant."""
    _set(grant, provisioned_at=_noon(200))
    assert _kinds(grant) == {Kind.UNUSED}
    history = grant.history.count()

    call_command("record_grant_use", csv_file(f"vms,{grant.account_name},{timezone.localdate().isoformat()}\n"))

    assert grant.history.count() == history
    assert _kinds(grant) == set()


# --- Two runs at the same moment, on PostgreSQL ---------------------------------------------------

@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_the_same_moment_suspend_a_grant_once():
    """S3.10: each run in its own thread and connection, as a beat run and a command would be."""
    import threading

    from conftest import build_city
    from django.db import connection
    from services import require_postgres

    from portal.models import IntendedUse, PermissibleUse
    from portal.table1 import load_table_1

    require_postgres()
    load_table_1(IntendedUse, PermissibleUse)
    city = build_city()
    grant = _set(provisioned(city).grant, last_used_at=_noon(120))
    barrier = threading.Barrier(2)
    outcomes = []

    def one_run():
        try:
            barrier.wait(timeout=10)
            outcomes.append(grant_hygiene_run(suspend=True))
        except Exception as error:  # kept for the assertion
            outcomes.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not any(thread.is_alive() for thread in threads)
    assert sorted(len(outcome.suspended) for outcome in outcomes) == [0, 1]
    assert grant.history.filter(status=Grant.Status.SUSPENDED).count() == 1
    assert AccessRequest.objects.filter(grant=grant, action=AccessRequest.Action.SUSPEND).count() == 1
    assert AuditEvent.objects.filter(action="grant.hygiene.suspend").count() == 1
