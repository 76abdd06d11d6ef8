"""The city's HR roster (S3.5c): leavers, leave and transfers reported as the head would report them,
joiners created without access, and a roster with any problem changing nothing."""

import hashlib
import os
from datetime import date
from pathlib import Path

import pytest
from conftest import provisioned
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.models import Grant, User
from portal.models import AuditEvent, OutgoingEmail
from access_requests.models import AccessRequest, RosterRun, StatusChange
from access_requests.roster import HEADER, RosterRefused, roster_apply
from access_requests.tasks import apply_hr_roster

SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "samples" / "hr-roster.csv"
SAMPLE_TEXT = SAMPLE.read_text()
HEADER_LINE = ",".join(HEADER) + "\n"


@pytest.fixture(autouse=True)
def _share(settings):
    # The city of the tests is ten people: two away at once is a fifth of it.
    settings.HR_ROSTER_MAX_LEAVERS_SHARE = 0.5


# The sample's latest effective date: every row of it is due.
SAMPLE_DAY = date(2026, 12, 7)


@pytest.fixture(autouse=True)
def today(monkeypatch):
    """The roster's "today", a day to set: `today.set(date)`. The sample's last day unless set."""

    class Today:
        def set(self, day):
            monkeypatch.setattr("access_requests.roster.localdate", lambda: day)

    clock = Today()
    clock.set(SAMPLE_DAY)
    return clock


@pytest.fixture
def sample(tmp_path):
    path = tmp_path / "hr-roster.csv"
    path.write_text(SAMPLE_TEXT)
    return path


def _write(tmp_path, text, name="roster.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _person(user):
    return User.objects.get(pk=user.pk)


def _refused_mails():
    return OutgoingEmail.objects.filter(subject__startswith="HR roster not applied")


def _nothing_changed(city):
    assert not StatusChange.objects.exists() and not RosterRun.objects.exists()
    assert not User.objects.exclude(employee_id="").exists()
    assert _person(city.officer).employment_status == User.EmploymentStatus.ACTIVE
    assert _refused_mails().count() == 1
    assert AuditEvent.objects.filter(action="hr_roster.refused", outcome="refused").count() == 1


def test_a_leaver_has_every_grant_queued_for_removal_in_the_heads_name(city, grant, sample):
    """S3.5c: a person who left is reported as their head would: every live grant to the ITSA queue."""
    roster_apply(path=sample)

    officer = _person(city.officer)
    assert officer.employment_status == User.EmploymentStatus.LEFT
    change = StatusChange.objects.get(person=officer)
    assert change.kind == StatusChange.Kind.LEFT and change.effective_date == date(2026, 12, 4)
    assert change.reported_by == city.head and change.department == city.police
    [request] = AccessRequest.objects.filter(status_change=change)
    assert request.grant == grant and request.action == AccessRequest.Action.REMOVE
    assert request.status == AccessRequest.Status.WITH_ITSA and request.requested_by == city.head
    # The head is told, as ITSA is.
    mail = OutgoingEmail.objects.filter(subject__contains="Olive Officer")
    assert {address for m in mail for address in m.to} >= {city.head.email, city.itsa.email}


def test_leave_queues_a_suspension(city, sample):
    """S3.5c: a person on leave has their access suspended through the ITSA queue."""
    request = provisioned(city, person=city.analyst)
    roster_apply(path=sample)

    assert _person(city.analyst).employment_status == User.EmploymentStatus.ON_LEAVE
    change = StatusChange.objects.get(person=city.analyst)
    assert change.kind == StatusChange.Kind.ON_LEAVE
    [queued] = AccessRequest.objects.filter(status_change=change)
    assert queued.grant == request.grant and queued.action == AccessRequest.Action.SUSPEND


def test_a_transfer_removes_access_and_moves_the_person(city, sample):
    """S3.5c: a department change is a transfer, reported in the old department's head's name."""
    grant = Grant.objects.create(person=city.streets_worker, system=city.traffic, department=city.streets,
                                 role=Grant.Role.MONITOR, account_name="wendy", provisioned_at=timezone.now(),
                                 provisioned_by=city.itsa)
    roster_apply(path=sample)

    worker = _person(city.streets_worker)
    assert worker.department == city.police
    assert worker.employment_status == User.EmploymentStatus.TRANSFERRED
    change = StatusChange.objects.get(person=worker)
    assert change.kind == StatusChange.Kind.TRANSFERRED
    assert change.department == city.streets and change.reported_by == city.outsider
    [queued] = AccessRequest.objects.filter(status_change=change)
    assert queued.grant == grant and queued.action == AccessRequest.Action.REMOVE


def test_a_joiner_is_created_without_any_access(city, sample):
    """S3.5b: a new person is entered with no password, no role and no grant; ITSA gives access."""
    result = roster_apply(path=sample)

    joiner = User.objects.get(email="nora.new@police.example")
    assert joiner.employee_id == "E1007" and joiner.department == city.police
    assert joiner.full_name == "Nora New"
    assert not joiner.has_usable_password()
    assert not joiner.groups.exists() and not joiner.is_staff and not joiner.is_superuser
    assert not Grant.objects.filter(person=joiner).exists()
    assert result.counts["joined"] == 1


def test_a_person_without_an_employee_id_is_adopted_by_email(city, sample):
    """S3.5c: the roster's employee id is given to the person with its e-mail who has none."""
    roster_apply(path=sample)

    assert _person(city.head).employee_id == "E1001"
    assert _person(city.officer).employee_id == "E1003"
    assert User.objects.filter(email="head@police.example").count() == 1


def test_people_are_matched_by_employee_id_first(city, sample, tmp_path):
    """S3.5c: with an employee id known, a changed e-mail still finds the person."""
    city.officer.employee_id = "E1003"
    city.officer.save(update_fields=["employee_id"])
    text = SAMPLE_TEXT.replace("officer@police.example", "olive.officer@police.example")
    roster_apply(path=_write(tmp_path, text))

    assert _person(city.officer).employment_status == User.EmploymentStatus.LEFT
    assert not User.objects.filter(email="olive.officer@police.example").exists()


def test_an_email_of_a_person_with_another_employee_id_is_refused(city, tmp_path):
    """S3.5c: the e-mail never moves an employee id from one person to another."""
    city.officer.employee_id = "E9999"
    city.officer.save(update_fields=["employee_id"])
    with pytest.raises(RosterRefused, match="employee id E9999"):
        roster_apply(path=_write(tmp_path, SAMPLE_TEXT))
    assert not StatusChange.objects.exists()


def test_history_and_audit_trail_name_the_roster_file(city, grant, sample):
    """S3.5c: each change names the roster file and its SHA-256; the system is the actor."""
    sha256 = hashlib.sha256(sample.read_bytes()).hexdigest()
    roster_apply(path=sample)

    officer = _person(city.officer)
    assert "hr-roster.csv" in officer.history.first().history_change_reason
    assert officer.history.first().history_user is None
    change = StatusChange.objects.get(person=officer)
    assert "hr-roster.csv" in change.note and sha256 in change.note
    event = AuditEvent.objects.get(action="status_change.report", target=str(change))
    assert event.actor is None and "hr-roster.csv" in event.detail and sha256 in event.detail
    joined = AuditEvent.objects.get(action="hr_roster.join")
    assert "hr-roster.csv" in joined.detail
    run = AuditEvent.objects.get(action="hr_roster.apply")
    assert run.target == "hr-roster.csv" and sha256 in run.detail


def test_the_same_roster_twice_changes_nothing(city, grant, sample, tmp_path):
    """S3.5c: the same file again is a no-op; another file saying the same re-reports nobody."""
    first = roster_apply(path=sample)
    counts = (StatusChange.objects.count(), AccessRequest.objects.count(), User.objects.count(),
              OutgoingEmail.objects.count())

    again = roster_apply(path=sample)
    assert again.already_applied and RosterRun.objects.count() == 1
    assert RosterRun.objects.get().counts == first.counts

    # The next day's file, the same people in other words (a new SHA-256): nobody changes again.
    tomorrow = roster_apply(path=_write(tmp_path, SAMPLE_TEXT.replace("Nora New", "Nora  New"), "next.csv"))
    assert not tomorrow.already_applied
    assert tomorrow.counts == {"adopted": 0, "joined": 0, "placed": 0, "left": 0, "transferred": 0, "on_leave": 0,
                               "returned": 0, "pending": 0}
    assert (StatusChange.objects.count(), AccessRequest.objects.count(), User.objects.count(),
            OutgoingEmail.objects.count()) == counts


def test_a_truncated_roster_changes_nothing_and_alerts_itsa(city, grant, tmp_path):
    """S3.5c: a roster cut off in the middle of a line changes nothing; ITSA is mailed why."""
    text = SAMPLE_TEXT[:SAMPLE_TEXT.index("E1004") + 20]  # cut in the analyst's line
    with pytest.raises(RosterRefused) as refused:
        roster_apply(path=_write(tmp_path, text))

    assert any("cut off" in problem for problem in refused.value.problems)
    assert any("line 5" in problem and "fields" in problem for problem in refused.value.problems)
    _nothing_changed(city)
    mail = _refused_mails().get()
    assert set(mail.to) == {city.itsa.email, city.itsa2.email}
    assert "roster.csv, line 5" in mail.body


def test_a_roster_naming_an_unknown_department_changes_nothing(city, tmp_path):
    """S3.5c: every department must be known by its code before anything changes."""
    text = SAMPLE_TEXT.replace("E1007,Nora New,nora.new@police.example,police", "E1007,Nora New,nora@x.example,parks")
    with pytest.raises(RosterRefused, match="no department has the code 'parks'"):
        roster_apply(path=_write(tmp_path, text))
    _nothing_changed(city)


@pytest.mark.parametrize("text, reason", [
    ("", "empty"),
    ("id,name\nE1,x\n", "header"),
    (HEADER_LINE, "no people"),
    (HEADER_LINE + "E1,A,a@x.example,police,retired,2026-12-01\n", "status 'retired'"),
    (HEADER_LINE + "E1,A,a@x.example,police,left,12/01/2026\n", "not a date"),
    (HEADER_LINE + "E1,A,a@x.example,police,active,2026-12-01\nE1,B,b@x.example,police,active,2026-12-01\n",
     "also on line 2"),
])
def test_a_malformed_roster_changes_nothing(city, tmp_path, text, reason):
    """S3.5c: header, statuses, dates and employee ids are checked before anything changes."""
    with pytest.raises(RosterRefused, match=reason):
        roster_apply(path=_write(tmp_path, text))
    _nothing_changed(city)


def test_a_missing_roster_alerts_itsa(city, tmp_path):
    """S3.5c: no file, no change, and ITSA is told."""
    with pytest.raises(RosterRefused, match="cannot be read"):
        roster_apply(path=tmp_path / "absent.csv")
    _nothing_changed(city)


def test_too_many_leavers_at_once_changes_nothing(city, sample, settings):
    """S3.5c: a roster taking more than the configured share of working people away is refused."""
    settings.HR_ROSTER_MAX_LEAVERS_SHARE = 0.1  # two of ten would leave or go on leave
    with pytest.raises(RosterRefused, match="2 of 10 active people"):
        roster_apply(path=sample)
    _nothing_changed(city)
    settings.HR_ROSTER_MAX_LEAVERS_SHARE = 0.2
    roster_apply(path=sample)
    assert StatusChange.objects.count() == 3


def test_a_person_missing_from_the_roster_is_not_a_leaver(city, tmp_path):
    """S3.5c: only an explicit status counts; a person the roster leaves out keeps their status."""
    text = "".join(line + "\n" for line in SAMPLE_TEXT.splitlines() if "officer@" not in line)
    roster_apply(path=_write(tmp_path, text))
    assert _person(city.officer).employment_status == User.EmploymentStatus.ACTIVE
    assert not StatusChange.objects.filter(person=city.officer).exists()


def test_a_department_without_a_head_is_refused_whole(city, sample):
    """S3.5c: the change is made in the head's name; with no head, nothing changes."""
    city.police.head = None
    city.police.save(update_fields=["head"])
    with pytest.raises(RosterRefused, match="has no head"):
        roster_apply(path=sample)
    assert not StatusChange.objects.exists() and not User.objects.exclude(employee_id="").exists()


def test_the_head_report_is_still_only_the_heads(city, grant):
    """S3.5c: the roster's way in does not open the head's report to anyone else."""
    from portal.errors import NotAllowed
    from access_requests.services import status_change_report

    with pytest.raises(NotAllowed):
        status_change_report(person=_person(city.officer), kind=StatusChange.Kind.LEFT,
                             effective_date=date(2026, 12, 4), note="", by=city.requester)


def test_the_command_applies_and_exits_non_zero_on_a_refusal(city, sample, tmp_path, capsys):
    """S3.5c: `manage.py apply_hr_roster FILE` applies; a bad roster makes it fail."""
    call_command("apply_hr_roster", str(sample))
    assert "applied" in capsys.readouterr().out
    call_command("apply_hr_roster", str(sample))
    assert "already applied" in capsys.readouterr().out

    with pytest.raises(CommandError, match="parks") as failed:
        call_command("apply_hr_roster", str(_write(tmp_path, SAMPLE_TEXT.replace("streets,active", "parks,active"),
                                                   "bad.csv")))
    assert failed.value.returncode == 1


def test_the_task_applies_the_newest_roster_of_the_drop_folder(city, tmp_path, settings):
    """S3.5c: each morning the newest *.csv of HR_ROSTER_DIR is applied."""
    settings.HR_ROSTER_DIR = ""
    assert "not set" in apply_hr_roster()

    folder = tmp_path / "drop"
    folder.mkdir()
    settings.HR_ROSTER_DIR = str(folder)
    assert "no roster" in apply_hr_roster() and _refused_mails().count() == 1

    old = _write(folder, SAMPLE_TEXT.replace("streets,active", "parks,active"), "2026-12-05.csv")
    os.utime(old, (1, 1))
    _write(folder, SAMPLE_TEXT, "2026-12-06.csv")
    assert apply_hr_roster() == "2026-12-06.csv applied."
    assert RosterRun.objects.get().file_name == "2026-12-06.csv"
    assert "already applied" in apply_hr_roster()


def test_the_task_refuses_a_roster_outside_the_drop_folder(city, tmp_path, settings):
    """S3.5c: a link in the drop folder to a file elsewhere is never read."""
    folder = tmp_path / "drop"
    folder.mkdir()
    outside = _write(tmp_path, SAMPLE_TEXT, "elsewhere.csv")
    (folder / "today.csv").symlink_to(outside)
    settings.HR_ROSTER_DIR = str(folder)
    assert "outside the roster drop folder" in apply_hr_roster()
    assert not RosterRun.objects.exists() and _refused_mails().count() == 1


# --- Return from leave, and effective dates in the future ------------------------------------------

def _counts():
    return (StatusChange.objects.count(), AccessRequest.objects.count(), User.objects.count(),
            OutgoingEmail.objects.count(), Grant.objects.filter(status=Grant.Status.ACTIVE).count())


def _analyst_back_on(day):
    return SAMPLE_TEXT.replace("police,on_leave,2026-12-07", f"police,active,{day}")


def test_a_return_on_the_roster_reinstates_only_what_the_leave_suspended(city, sample, tmp_path, today):
    """S3.5c S3.5b: `active` for a person on leave is their return, dated like any change: ITSA is
    asked to reinstate the grants the leave suspended, not one the nightly check suspended."""
    from django.db import transaction

    from access_requests.services import access_request_provision
    from security.services import grant_suspend

    vms = provisioned(city, person=city.analyst).grant
    traffic = Grant.objects.create(person=city.analyst, system=city.traffic, department=city.police,
                                   role=Grant.Role.MONITOR, account_name="andy-traffic",
                                   provisioned_at=timezone.now(), provisioned_by=city.itsa)
    with transaction.atomic():
        grant_suspend(grant=traffic, by=None, reason="the nightly grant check")
    roster_apply(path=sample)
    [suspension] = AccessRequest.objects.filter(person=city.analyst, action=AccessRequest.Action.SUSPEND)
    access_request_provision(request=suspension, by=city.itsa)

    back = _write(tmp_path, _analyst_back_on("2026-12-10"), "2026-12-09.csv")
    today.set(date(2026, 12, 9))
    waiting = roster_apply(path=back)
    assert waiting.counts["pending"] == 1 and waiting.counts["returned"] == 0
    assert _person(city.analyst).employment_status == User.EmploymentStatus.ON_LEAVE

    today.set(date(2026, 12, 10))
    result = roster_apply(path=back)

    assert result.counts["returned"] == 1 and result.counts["pending"] == 0
    assert _person(city.analyst).employment_status == User.EmploymentStatus.ACTIVE
    change = StatusChange.objects.get(person=city.analyst, kind=StatusChange.Kind.RETURNED)
    assert change.effective_date == date(2026, 12, 10) and change.reported_by == city.head
    [reinstate] = AccessRequest.objects.filter(action=AccessRequest.Action.REINSTATE)
    assert reinstate.grant == vms and reinstate.status_change == change and reinstate.is_with_itsa
    access_request_provision(request=reinstate, by=city.itsa2)
    assert Grant.objects.get(pk=vms.pk).status == Grant.Status.ACTIVE
    assert Grant.objects.get(pk=traffic.pk).status == Grant.Status.SUSPENDED


def test_a_future_dated_row_waits_and_the_same_file_applies_it_once_on_its_date(city, sample, today):
    """S3.5c: a leave dated tomorrow is pending today; the same file run again on its date applies
    that row, and only it, once; a third run changes nothing."""
    today.set(date(2026, 12, 6))
    first = roster_apply(path=sample)

    assert first.counts["pending"] == 1 and first.counts["on_leave"] == 0 and first.counts["left"] == 1
    assert first.counts["joined"] == 1  # a joiner is created at once, whatever their date
    assert first.pending_from == date(2026, 12, 7)
    assert _person(city.analyst).employment_status == User.EmploymentStatus.ACTIVE
    assert not StatusChange.objects.filter(person=city.analyst).exists()
    assert RosterRun.objects.get().pending_from == date(2026, 12, 7)
    assert "pending 1" in AuditEvent.objects.get(action="hr_roster.apply").detail

    before = _counts()
    same_day = roster_apply(path=sample)
    assert same_day.already_applied and same_day.pending_from == date(2026, 12, 7) and _counts() == before

    today.set(date(2026, 12, 7))
    due = roster_apply(path=sample)

    assert not due.already_applied
    assert due.counts == {"adopted": 0, "joined": 0, "placed": 0, "left": 0, "transferred": 0, "on_leave": 1,
                          "returned": 0, "pending": 0}
    assert _person(city.analyst).employment_status == User.EmploymentStatus.ON_LEAVE
    assert StatusChange.objects.filter(person=city.officer).count() == 1
    run = RosterRun.objects.get()
    assert run.pending_from is None and run.applied_through == date(2026, 12, 7)
    assert AuditEvent.objects.filter(action="hr_roster.apply").count() == 2

    after = _counts()
    third = roster_apply(path=sample)
    assert third.already_applied and _counts() == after
    assert AuditEvent.objects.filter(action="hr_roster.apply").count() == 2


def test_the_next_days_file_applies_a_row_come_due(city, sample, tmp_path, today):
    """S3.5c: the usual case: the pending row is applied by the next day's file."""
    today.set(date(2026, 12, 6))
    roster_apply(path=sample)
    today.set(date(2026, 12, 7))
    result = roster_apply(path=_write(tmp_path, SAMPLE_TEXT.replace("Nora New", "Nora  New"), "next.csv"))
    assert result.counts["on_leave"] == 1 and result.counts["left"] == 0
    assert _person(city.analyst).employment_status == User.EmploymentStatus.ON_LEAVE


def test_the_same_file_again_applies_only_the_rows_that_waited(city, sample, today):
    """S3.5c: a change the head made since the first run is not undone by the file's older rows."""
    from access_requests.services import status_change_report

    today.set(date(2026, 12, 6))
    roster_apply(path=sample)
    status_change_report(person=_person(city.requester), kind=StatusChange.Kind.ON_LEAVE,
                         effective_date=date(2026, 12, 6), note="", by=city.head)

    today.set(date(2026, 12, 8))
    result = roster_apply(path=sample)

    assert result.counts["on_leave"] == 1 and result.counts["returned"] == 0
    assert _person(city.requester).employment_status == User.EmploymentStatus.ON_LEAVE


def test_the_leavers_share_counts_only_the_rows_applied_now(city, sample, settings, today):
    """S3.5c: a leave that waits for its date is not counted against today's safety check."""
    settings.HR_ROSTER_MAX_LEAVERS_SHARE = 0.1  # one of ten may go; the sample has two
    today.set(date(2026, 12, 6))
    result = roster_apply(path=sample)
    assert result.counts["left"] == 1 and result.counts["pending"] == 1

    today.set(date(2026, 12, 7))
    due = roster_apply(path=sample)  # one of the ten at work now, the joiner among them
    assert due.counts["on_leave"] == 1


def test_the_command_reports_what_waits(city, sample, capsys, today):
    """S3.5c: the output names the rows pending and the first day one is due."""
    today.set(date(2026, 12, 6))
    call_command("apply_hr_roster", str(sample))
    out = capsys.readouterr().out
    assert "pending: 1" in out and "the first due on 2026-12-07" in out
    call_command("apply_hr_roster", str(sample))
    out = capsys.readouterr().out
    assert "already applied" in out and "Pending: 1" in out
