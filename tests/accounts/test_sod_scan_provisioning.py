"""S3.2c: sod_scan and the nightly scan report every account created, changed or removed by a
person who held end-user access to its system at that moment, and every account a person
administered for themselves, from the grants' history. Such changes are refused now, so the tests
build them as a database kept before the rule would hold them: through the provisioning service
with the new check taken out."""

from datetime import timedelta

import pytest
from conftest import file_request
from django.core.management import CommandError, call_command
from django.utils import timezone

from access_requests import services as request_services
from access_requests.services import access_request_provision
from accounts import tasks
from accounts.models import Grant, SodFinding
from accounts.sod import administered_accounts, sod_findings_scan
from reports.metrics import Period, city_figures

Stage, Resolution = SodFinding.Stage, SodFinding.Resolution


@pytest.fixture
def before_the_rule(monkeypatch):
    """Provisioning as it was before S3.2c: only ITSA, never for the request's filer or subject."""

    def old_rule(*, request, user):
        if not user.roles.is_itsa or user.pk in (request.person_id, request.requested_by_id):
            return "refused", False
        return None

    monkeypatch.setattr(request_services, "_provision_refusal", old_rule)


def _itsa_end_user(city, *, role="end_user", by=None):
    """Ida (ITSA) gets access to the VMS, provisioned by Ike."""
    city.itsa.department = city.police
    city.itsa.save()
    request = file_request(city, person=city.itsa, role=role, by=city.head)
    return access_request_provision(request=request, by=by or city.itsa2, account_name=f"iitsa-{role}").grant


def _provision(city, *, by, action="add", person=None):
    uses = [] if action in ("remove", "suspend") else None
    request = file_request(city, person=person, action=action, uses=uses, by=city.head)
    return access_request_provision(request=request, by=by, account_name="oofficer").grant


def _remove_itsa_access(city):
    removal = file_request(city, person=city.itsa, action="remove", uses=[], by=city.head)
    access_request_provision(request=removal, by=city.itsa2)


def test_s3_2c_sod_scan_reports_an_account_created_by_an_end_user_of_the_system(city, capsys, before_the_rule):
    """S3.2c: Ida, an end user of the VMS, created the officer's account on it; sod_scan lists it,
    keeps it as an open finding and exits non-zero."""
    _itsa_end_user(city)
    grant = _provision(city, by=city.itsa)

    with pytest.raises(CommandError) as failure:
        call_command("sod_scan")

    assert failure.value.returncode == 1
    out = capsys.readouterr().out
    assert "itsa@city.example" in out
    assert ("Ida ITSA created (" in out and "Olive Officer's account “oofficer” on Citywide VMS while holding "
            "end-user access to it (Section 3.2" in out)
    finding = SodFinding.objects.get(stage=Stage.ADMINISTERED)
    assert (finding.person, finding.system, finding.grant, finding.resolution) == (
        city.itsa, city.vms, grant, Resolution.OPEN)
    assert finding.department == city.police


def test_s3_2c_the_nightly_task_reports_it_too(city, before_the_rule):
    """S3.2c: the nightly scan keeps the same finding, once however often it runs."""
    _itsa_end_user(city)
    grant = _provision(city, by=city.itsa)

    assert tasks.scan_sod.delay().get() == (1, 0)
    assert tasks.scan_sod.delay().get() == (0, 0)

    finding = SodFinding.objects.get()
    assert (finding.stage, finding.person, finding.grant, finding.resolution) == (
        Stage.ADMINISTERED, city.itsa, grant, Resolution.OPEN)
    assert "while holding end-user access" in finding.detail


def test_s3_2c_changes_suspensions_and_removals_are_reported_with_what_was_done(city, before_the_rule):
    """S3.2c: Ike created the account properly; Ida, an end user, changed, suspended and removed it."""
    grant = _provision(city, by=city.itsa2)
    _itsa_end_user(city)
    change = file_request(city, action="change", uses=[city.crime_detection, city.investigations], by=city.head)
    access_request_provision(request=change, by=city.itsa, account_name="oofficer")
    _provision(city, by=city.itsa, action="suspend")
    _provision(city, by=city.itsa, action="remove")

    [account] = administered_accounts()

    assert (account.person, account.grant) == (city.itsa, grant)
    assert [act.verb for act in account.acts] == ["changed", "suspended", "removed"]
    assert str(account).startswith("Ida ITSA changed (")
    assert " and removed (" in str(account)
    sod_findings_scan()
    assert SodFinding.objects.get().resolution == Resolution.OPEN  # Ida still holds end-user access


def test_s3_2c_an_account_a_person_provisioned_for_themselves_is_reported(city, before_the_rule, monkeypatch):
    """S3.2c: nobody administers their own account; the scan finds it, open while the account lives."""
    city.itsa.department = city.police
    city.itsa.save()
    monkeypatch.setattr(request_services, "_provision_refusal", lambda **kwargs: None)  # before S3.5b too
    request = file_request(city, person=city.itsa, role="administrator", by=city.head)
    grant = access_request_provision(request=request, by=city.itsa, account_name="iitsa-admin").grant

    [account] = administered_accounts()
    assert (account.person, account.grant, account.own, account.as_end_user) == (city.itsa, grant, True, False)
    assert "Ida ITSA created (" in str(account) and "their own account “iitsa-admin”" in str(account)
    assert "nobody does it for themselves" in str(account)
    assert sod_findings_scan() == (1, 0)
    assert SodFinding.objects.get().resolution == Resolution.OPEN


def test_s3_2c_the_finding_is_resolved_once_the_end_user_access_is_gone(city, capsys, before_the_rule):
    """S3.2c: the change cannot be undone, but the conflict ends with Ida's end-user access; sod_scan
    still lists the past change and exits zero."""
    _itsa_end_user(city)
    _provision(city, by=city.itsa)
    assert sod_findings_scan() == (1, 0)

    _remove_itsa_access(city)

    assert sod_findings_scan() == (0, 1)
    finding = SodFinding.objects.get()
    assert finding.resolution == Resolution.RESOLVED and finding.resolved_at is not None
    call_command("sod_scan")
    out = capsys.readouterr().out
    assert "Olive Officer's account “oofficer”" in out and "[resolved]" in out
    assert sod_findings_scan() == (0, 0)


def test_s3_2c_only_changes_made_while_the_access_was_held_count(city, before_the_rule):
    """S3.2c: "at that moment": Ida created the account before she was given end-user access, and
    removed it after that access was removed: neither counts."""
    grant = _provision(city, by=city.itsa)
    _itsa_end_user(city)
    _remove_itsa_access(city)
    _provision(city, by=city.itsa, action="remove")

    assert administered_accounts() == []
    assert sod_findings_scan() == (0, 0)
    grant.refresh_from_db()
    assert grant.status == Grant.Status.REMOVED


def test_s3_2c_the_role_held_at_that_moment_counts_not_the_role_held_now(city, before_the_rule):
    """S3.2c: Ida was an auditor of the VMS when she created the account (a staff role, allowed), and
    only later became one of its end users: not reported."""
    own = _itsa_end_user(city, role="auditor")
    _provision(city, by=city.itsa)
    Grant.objects.filter(pk=own.pk).update(role=Grant.Role.END_USER)  # a later edit; history keeps the past

    assert administered_accounts() == []


def test_s3_2c_an_imported_grant_is_judged_by_its_recorded_provisioner(city):
    """S3.2c: a grant written outside the services (imported: its history names nobody) counts as
    made by its provisioned_by at its provisioned_at."""
    own = _itsa_end_user(city)
    made = own.provisioned_at + timedelta(minutes=5)
    imported = Grant.objects.create(person=city.officer, system=city.vms, department=city.police, role="end_user",
                                    account_name="imported", provisioned_at=made, provisioned_by=city.itsa)

    [account] = administered_accounts()
    assert (account.grant, [act.verb for act in account.acts]) == (imported, ["created"])
    assert account.acts[0].at == made


def test_s3_2c_administered_findings_are_counted_in_the_reports(city, before_the_rule):
    """S3.2c S2.5c: the citywide figures count them with the other separation-of-duties findings."""
    _itsa_end_user(city)
    _provision(city, by=city.itsa)
    today = timezone.localdate()
    period = Period(today.replace(month=1, day=1), today.replace(month=12, day=31))
    before = city_figures(period=period).sod_findings_total

    sod_findings_scan()

    figures = city_figures(period=period)
    assert figures.sod_findings_total == before + 1
    assert dict(figures.sod_findings_by_resolution)["Open: both roles still held"] == 1


def test_s3_2c_an_open_scan_finding_and_an_administered_one_live_side_by_side(city, before_the_rule):
    """S3.2a S3.2c: Ida holds both sides of the VMS (imported) and administered an account on it: two
    open findings for one person and system."""
    _itsa_end_user(city)
    _provision(city, by=city.itsa)
    Grant.objects.create(person=city.itsa, system=city.vms, department=city.police, role="administrator",
                         account_name="iitsa-admin", provisioned_at=timezone.now(), provisioned_by=city.itsa2)

    assert sod_findings_scan() == (2, 0)
    assert sorted(SodFinding.objects.values_list("stage", "resolution")) == [
        (Stage.ADMINISTERED, Resolution.OPEN), (Stage.SCAN, Resolution.OPEN)]
