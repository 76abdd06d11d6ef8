"""Separation-of-duties findings (S3.2a, S3.2b) kept for the reports (S2.5b): a conflict refused
when a request is filed, approved or provisioned is kept as "prevented", even though the refusal
rolls its transaction back; the nightly scan opens a finding for a conflict among existing
accounts and resolves it once one of the roles is gone."""

import pytest
from conftest import file_request, provisioned
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from access_requests.models import AccessRequest
from access_requests.services import access_request_approve, access_request_preview, access_request_provision
from accounts import tasks
from accounts.models import Grant, SodFinding
from accounts.sod import sod_finding_record, sod_findings_scan
from portal.audit import after_rollback, audit_record, service_transaction
from portal.celery import app
from portal.errors import RuleViolation
from portal.models import AuditEvent, OutgoingEmail

Stage, Resolution = SodFinding.Stage, SodFinding.Resolution


def _direct_grant(city, role, *, person=None, system=None):
    """A grant made outside the requests, as imported data or a direct database edit would."""
    return Grant.objects.create(
        person=person or city.officer, system=system or city.vms, department=city.police, role=role,
        account_name=f"imported-{role}", provisioned_at=timezone.now(), provisioned_by=city.itsa,
    )


def _findings():
    return list(SodFinding.objects.order_by("pk").values_list("person", "system", "department", "stage",
                                                               "resolution"))


def test_a_refused_filing_leaves_a_prevented_finding_and_nothing_else(city):
    """S3.2a: the end user asked to be made administrator of their system is refused at filing; the
    finding outlives the rollback, nothing the refused filing wrote does."""
    provisioned(city, role="end_user")
    requests, mails = AccessRequest.objects.count(), OutgoingEmail.objects.count()

    with pytest.raises(RuleViolation) as refusal:
        file_request(city, role="administrator", by=city.head)

    finding = SodFinding.objects.get()
    assert (finding.person, finding.system, finding.department) == (city.officer, city.vms, city.police)
    assert (finding.stage, finding.resolution, finding.resolved_at) == (Stage.FILING, Resolution.PREVENTED, None)
    assert finding.detail == refusal.value.message
    assert (AccessRequest.objects.count(), OutgoingEmail.objects.count()) == (requests, mails)
    assert AuditEvent.objects.filter(action="access_request.submit", outcome="refused").count() == 1


def test_a_refused_approval_leaves_a_prevented_finding(city):
    """S3.2b: an administrator account appeared between filing and approval."""
    request = file_request(city, role="end_user", by=city.requester)
    _direct_grant(city, "administrator")

    with pytest.raises(RuleViolation):
        access_request_approve(request=request, by=city.head)

    assert _findings() == [(city.officer.pk, city.vms.pk, city.police.pk, Stage.APPROVAL, Resolution.PREVENTED)]
    request.refresh_from_db()
    assert request.is_awaiting_head


def test_a_refused_provisioning_leaves_a_prevented_finding(city):
    """S3.2a: an end-user account appeared between approval and provisioning."""
    request = file_request(city, role="administrator", by=city.head)
    _direct_grant(city, "end_user")

    with pytest.raises(RuleViolation):
        access_request_provision(request=request, by=city.itsa, account_name="oofficer-admin")

    assert _findings() == [(city.officer.pk, city.vms.pk, city.police.pk, Stage.PROVISIONING, Resolution.PREVENTED)]
    assert not Grant.objects.filter(role="administrator").exists()


def test_a_provisioning_refused_for_another_reason_is_no_finding(city):
    """The same role already held is refused at provisioning, but it is no conflict of 3.2."""
    request = file_request(city, role="end_user", by=city.head)
    _direct_grant(city, "end_user")

    with pytest.raises(RuleViolation) as refusal:
        access_request_provision(request=request, by=city.itsa, account_name="oofficer")

    assert "already holds" in refusal.value.message
    assert not SodFinding.objects.exists()


def test_the_form_preview_records_nothing(city):
    """S3.2a: the preview only asks the rule; nobody was refused anything."""
    provisioned(city, role="end_user")

    problems = access_request_preview(department=city.police, person=city.officer, system=city.vms, action="add",
                                      role="administrator")

    assert any("3.2" in problem for problem in problems)
    assert not SodFinding.objects.exists()


def test_a_finding_recorded_outside_a_service_is_written_at_once(city):
    sod_finding_record(person=city.streets_worker, system=city.traffic, stage=Stage.FILING, detail="conflict")

    assert _findings() == [(city.streets_worker.pk, city.traffic.pk, city.streets.pk, Stage.FILING,
                            Resolution.PREVENTED)]


def test_after_rollback_runs_once_the_refused_service_is_rolled_back_and_only_then(city):
    """The hook waits for the outermost service: what it writes is not undone by the rollback."""
    calls = []

    @service_transaction
    def inner(*, by):
        after_rollback(lambda: calls.append(AuditEvent.objects.filter(action="test.inner").exists()))
        raise RuleViolation("refused")

    @service_transaction
    def outer(*, by):
        audit_record(actor=by, action="test.inner")
        inner(by=by)

    with pytest.raises(RuleViolation):
        outer(by=city.itsa)

    assert calls == [False]


def test_the_scan_opens_a_finding_for_each_conflict_then_resolves_it_when_a_role_is_removed(city):
    """S3.2a S3.2b: a conflict in existing accounts is open until one of the roles goes."""
    end_user = provisioned(city, role="end_user").grant
    _direct_grant(city, "administrator")
    _direct_grant(city, "end_user", person=city.streets_worker, system=city.traffic)
    _direct_grant(city, "auditor", person=city.streets_worker, system=city.traffic)

    assert sod_findings_scan() == (2, 0)
    assert sorted(_findings()) == sorted([
        (city.officer.pk, city.vms.pk, city.police.pk, Stage.SCAN, Resolution.OPEN),
        (city.streets_worker.pk, city.traffic.pk, city.streets.pk, Stage.SCAN, Resolution.OPEN),
    ])

    Grant.objects.filter(pk=end_user.pk).update(status=Grant.Status.REMOVED, ended_at=timezone.now())

    assert sod_findings_scan() == (0, 1)
    resolved = SodFinding.objects.get(person=city.officer)
    assert resolved.resolution == Resolution.RESOLVED and resolved.resolved_at is not None
    assert SodFinding.objects.get(person=city.streets_worker).resolution == Resolution.OPEN


def test_running_the_scan_twice_opens_nothing_twice(city):
    """S3.2a"""
    provisioned(city, role="end_user")
    _direct_grant(city, "monitor")

    assert sod_findings_scan() == (1, 0)
    assert sod_findings_scan() == (0, 0)
    assert SodFinding.objects.filter(resolution=Resolution.OPEN).count() == 1


def test_a_conflict_back_after_it_was_resolved_opens_a_new_finding(city):
    """S3.2b"""
    provisioned(city, role="end_user")
    admin = _direct_grant(city, "administrator")
    sod_findings_scan()
    Grant.objects.filter(pk=admin.pk).update(status=Grant.Status.REMOVED, ended_at=timezone.now())
    sod_findings_scan()
    _direct_grant(city, "administrator")

    assert sod_findings_scan() == (1, 0)
    assert sorted(SodFinding.objects.values_list("resolution", flat=True)) == [Resolution.OPEN, Resolution.RESOLVED]


def test_sod_scan_keeps_its_report_and_exit_code_and_records_the_finding(city, capsys):
    """S3.2a S3.2b"""
    provisioned(city, role="end_user")
    _direct_grant(city, "administrator")

    with pytest.raises(CommandError) as failure:
        call_command("sod_scan")

    assert failure.value.returncode == 1
    assert city.officer.email in capsys.readouterr().out
    assert _findings() == [(city.officer.pk, city.vms.pk, city.police.pk, Stage.SCAN, Resolution.OPEN)]


def test_the_nightly_task_scans_and_is_on_the_beat_schedule(city):
    """S3.2a S3.2b: the scan runs itself every night."""
    provisioned(city, role="end_user")
    _direct_grant(city, "auditor")

    assert list(tasks.scan_sod.delay().get()) == [1, 0]
    assert "accounts.tasks.scan_sod" in {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "accounts.tasks.scan_sod" in app.tasks
