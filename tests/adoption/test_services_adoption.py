"""The adoption import (adoption.services): every rule refuses its row with a reason, a dry run writes
nothing, a real run writes all or nothing, a second run changes nothing, and each department's
imported grants go to a baseline validation."""

import hashlib
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Department, Grant, SurveillanceSystem, User
from accounts.services import grant_open
from adoption.models import AdoptedGrant, ImportBatch
from adoption.services import CHANGE, CREATE, UNCHANGED, import_apply, import_plan
from agreements.models import AgreementGrant, SharingAgreement
from audits.models import Validation
from audits.services import sign_off_due_on
from portal.audit import service_transaction
from portal.errors import NotAllowed, RuleViolation
from portal.models import AuditEvent, PermissibleUse

SAMPLES = Path(settings.BASE_DIR) / "docs" / "samples" / "adoption"


@pytest.fixture
def files(tmp_path):
    target = tmp_path / "city"
    shutil.copytree(SAMPLES, target)
    return target


def add_line(directory: Path, name: str, line: str) -> None:
    with (directory / name).open("a") as out:
        out.write(line + "\n")


def replace(directory: Path, name: str, old: str, new: str) -> None:
    path = directory / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def written_counts():
    return (Department.objects.count(), User.objects.count(), SurveillanceSystem.objects.count(),
            Grant.objects.count(), ImportBatch.objects.count(), AdoptedGrant.objects.count(),
            Validation.objects.count())


def refusals(plan):
    return [(row.file, row.line, row.reason) for row in plan.refused]


def only_refusal(plan, file, line):
    [refused] = plan.refused
    assert (refused.file, refused.line) == (file, line)
    return refused.reason


# --- The plan --------------------------------------------------------------------------------------

def test_the_sample_files_plan_to_create_everything_and_write_nothing(city, files):
    before = written_counts()
    plan = import_plan(files)

    assert plan.refused == []
    assert {row.outcome for row in plan.rows} == {CREATE}
    assert [(row.file, row.line) for row in plan.rows if row.file == "accounts.csv"] == [
        ("accounts.csv", 2), ("accounts.csv", 3), ("accounts.csv", 4)]
    assert written_counts() == before


def test_an_unknown_department_is_refused(city, files):
    add_line(files, "people.csv", "E1009,new@fire.example,Nia New,Clerk,firee,")
    reason = only_refusal(import_plan(files), "people.csv", 7)
    assert "Unknown department “firee”" in reason


def test_an_account_for_an_unknown_department_is_refused(city, files):
    replace(files, "accounts.csv", "iinspector,end_user,fire,", "iinspector,end_user,nowhere,")
    assert "Unknown department “nowhere”" in only_refusal(import_plan(files), "accounts.csv", 2)


def test_a_person_listed_in_two_departments_is_refused(city, files):
    add_line(files, "people.csv", "E1002,inspector@fire.example,Ivan Inspector,Fire inspector,transit,")
    assert "A person in two departments" in only_refusal(import_plan(files), "people.csv", 7)


def test_a_person_already_in_another_department_is_refused_not_moved(city, files):
    """The import brings people in and does not transfer them: that is the HR roster's work."""
    User.objects.filter(pk=city.officer.pk).update(employee_id="P1")
    add_line(files, "people.csv", f"P1,{city.officer.email},Olive Officer,Officer,fire,")
    reason = only_refusal(import_plan(files), "people.csv", 7)
    assert "A person in two departments" in reason and "Police Department" in reason


def test_an_account_for_another_department_than_the_persons_is_refused(city, files):
    replace(files, "accounts.csv", "iinspector,end_user,fire,", "iinspector,end_user,transit,")
    assert "A person in two departments" in only_refusal(import_plan(files), "accounts.csv", 2)


def test_an_account_name_held_on_the_system_by_someone_else_is_refused(city, files):
    """JC19a: a live grant in the portal keeps its name."""
    User.objects.filter(pk=city.officer.pk).update(employee_id="P1")
    User.objects.filter(pk=city.analyst.pk).update(employee_id="P2")
    grant_open(person=city.officer, system=city.vms, department=city.police, role="end_user",
               account_name="oofficer", permissible_uses=[city.crime_detection], by=city.itsa)
    add_line(files, "accounts.csv", "vms,P2,OOfficer ,end_user,police,crime-detection,")
    reason = only_refusal(import_plan(files), "accounts.csv", 5)
    assert "already used on Citywide VMS" in reason and "someone else" in reason


def test_an_account_name_used_twice_in_the_files_is_refused(city, files):
    """JC19a: within the files too."""
    add_line(files, "accounts.csv", "fire-vms,E1001,IInspector,end_user,fire,building-protection,")
    reason = only_refusal(import_plan(files), "accounts.csv", 5)
    assert "used on fire-vms by E1002" in reason


def test_a_separation_of_duties_conflict_within_the_files_is_refused(city, files):
    """S3.2a, S3.2b: an end user and a staff role on one system."""
    add_line(files, "accounts.csv", "fire-vms,E1002,iinspector-admin,administrator,fire,building-protection,")
    assert "separation-of-duties conflict" in only_refusal(import_plan(files), "accounts.csv", 5)


def test_a_separation_of_duties_conflict_with_a_live_grant_is_refused(city, files):
    """S3.2a: the person already holds an end-user grant in the portal."""
    User.objects.filter(pk=city.officer.pk).update(employee_id="P1")
    grant_open(person=city.officer, system=city.vms, department=city.police, role="end_user",
               account_name="oofficer", permissible_uses=[city.crime_detection], by=city.itsa)
    add_line(files, "accounts.csv", "vms,P1,oofficer-admin,administrator,police,crime-detection,")
    assert "separation-of-duties conflict" in only_refusal(import_plan(files), "accounts.csv", 5)


def test_a_role_that_does_not_exist_is_refused(city, files):
    replace(files, "accounts.csv", "vadmin,administrator,", "vadmin,superuser,")
    assert "The role “superuser” does not exist" in only_refusal(import_plan(files), "accounts.csv", 3)


def test_a_missing_column_refuses_the_file(city, files):
    replace(files, "systems.csv", ",owner_department_code", "")
    plan = import_plan(files)
    assert ("systems.csv", 1, "Missing columns: owner_department_code.") in refusals(plan) or \
        ("systems.csv", 1, "Missing column: owner_department_code.") in refusals(plan)


def test_a_bad_date_is_refused(city, files):
    replace(files, "accounts.csv", "building-protection;crime-detection,", "building-protection;crime-detection,31/12/2030")
    assert "is not a date" in only_refusal(import_plan(files), "accounts.csv", 2)


def test_a_department_outside_the_orders_scope_gets_no_accounts(city, files):
    """S1: an out-of-scope body is refused accounts."""
    Department.objects.filter(pk=city.streets.pk).update(in_scope=False)
    User.objects.filter(pk=city.streets_worker.pk).update(employee_id="S1")
    add_line(files, "accounts.csv", "transit-cams,S1,wworker,end_user,streets,traffic-monitoring,")
    assert "outside the order's scope" in only_refusal(import_plan(files), "accounts.csv", 5)


def _agreement(city, *, systems, third_party="County Sheriff"):
    agreement = SharingAgreement.objects.create(
        third_party=third_party, category="law-enforcement", shared="Live video.", conditions="None.",
        department=city.police, starts_on=date.today() - timedelta(days=1), ends_on=date.today() + timedelta(days=90),
        status=SharingAgreement.Status.APPROVED, requested_by=city.head, decided_by=city.designee,
    )
    agreement.systems.set(systems)
    return agreement


def test_a_third_party_without_an_agreement_is_refused(city, files):
    """S2.3, S3.7: a third party's person gets access only under an agreement in force."""
    add_line(files, "people.csv", "X1,deputy@sheriff.example,Dan Deputy,Deputy,,County Sheriff")
    add_line(files, "accounts.csv", "vms,X1,ddeputy,end_user,,crime-detection,")
    assert "A third party without an agreement" in only_refusal(import_plan(files), "accounts.csv", 5)


def test_a_third_party_under_an_agreement_comes_in_view_only(city, files):
    """S2.3, S3.7: view-only, tied to the agreement, ending with it."""
    agreement = _agreement(city, systems=[city.vms])
    add_line(files, "people.csv", "X1,deputy@sheriff.example,Dan Deputy,Deputy,,County Sheriff")
    add_line(files, "accounts.csv", "vms,X1,ddeputy,end_user,,crime-detection,")
    plan = import_plan(files)
    assert plan.refused == []
    import_apply(plan, by=city.itsa)

    grant = Grant.objects.get(account_name="ddeputy")
    assert grant.view_only and grant.department == city.police and grant.ends_on == agreement.ends_on
    assert AgreementGrant.objects.get(grant=grant).agreement == agreement
    assert AdoptedGrant.objects.filter(grant=grant).exists()


def test_a_third_party_is_refused_a_staff_role_even_under_an_agreement(city, files):
    """S3.7: a third party gets view-only end-user access, never a staff role."""
    _agreement(city, systems=[city.vms])
    add_line(files, "people.csv", "X1,deputy@sheriff.example,Dan Deputy,Deputy,,County Sheriff")
    add_line(files, "accounts.csv", "vms,X1,ddeputy,administrator,,crime-detection,")
    assert "never a staff role" in only_refusal(import_plan(files), "accounts.csv", 5)


# --- Writing ---------------------------------------------------------------------------------------

def test_a_real_run_writes_everything_with_the_adoption_marks_and_the_batch(city, files):
    plan = import_plan(files)
    applied = import_apply(plan, by=city.itsa)
    batch = applied.batch

    fire = Department.objects.get(code="fire")
    assert fire.head.employee_id == "E1001" and fire.kind == "department"
    assert Department.objects.get(code="transit").kind == "commission"
    inspector = User.objects.get(employee_id="E1002")
    assert inspector.department == fire and not inspector.has_usable_password()
    grants = Grant.objects.filter(system__code__in=["fire-vms", "transit-cams"])
    assert grants.count() == 3
    assert all(grant.status == Grant.Status.ACTIVE and grant.provisioned_by == city.itsa for grant in grants)
    assert set(AdoptedGrant.objects.filter(batch=batch).values_list("grant", flat=True)) == set(
        grants.values_list("pk", flat=True))
    assert set(Grant.objects.get(account_name="iinspector").permissible_uses.values_list("code", flat=True)) == {
        "building-protection", "crime-detection"}
    assert batch.imported_by == city.itsa
    assert batch.files == {name: hashlib.sha256((files / name).read_bytes()).hexdigest()
                           for name in ("departments.csv", "people.csv", "systems.csv", "accounts.csv")}
    assert batch.counts["accounts.csv"] == {"create": 3, "change": 0}
    event = AuditEvent.objects.get(action="adoption.import")
    assert event.actor_id == city.itsa.pk and batch.files["accounts.csv"] in event.detail


def test_each_department_gets_a_baseline_validation_of_its_imported_grants(city, files):
    """S3.4e, S3.4f: within the validation period the head confirms or removes every imported account."""
    applied = import_apply(import_plan(files), by=city.itsa)

    for code, names in (("fire", {"iinspector", "vadmin"}), ("transit", {"ooperator"})):
        validation = Validation.objects.get(department__code=code, status=Validation.Status.OPEN)
        assert validation.kind == Validation.Kind.ANNUAL
        assert validation.due_date == sign_off_due_on(opened_on=timezone.localdate())
        assert set(validation.items.values_list("grant__account_name", flat=True)) == names
        assert validation in applied.validations


def test_a_recently_validated_department_gets_a_user_audit_of_its_imported_grants(city, files):
    """S3.5d: a department not due for its annual validation still has its imported grants reviewed."""
    import_apply(import_plan(files), by=city.itsa)
    Validation.objects.filter(department__code="fire").update(status=Validation.Status.COMPLETE,
                                                               completed_at=timezone.now())
    add_line(files, "people.csv", "E1004,new@fire.example,Nia New,Clerk,fire,")
    add_line(files, "accounts.csv", "fire-vms,E1004,nnew,end_user,fire,building-protection,")
    applied = import_apply(import_plan(files), by=city.itsa)

    [audit] = [v for v in applied.validations if v.department.code == "fire"]
    assert audit.kind == Validation.Kind.USER_AUDIT and audit.is_open
    assert "nnew" in set(audit.items.values_list("grant__account_name", flat=True))


def test_a_second_run_of_the_same_files_changes_nothing(city, files):
    import_apply(import_plan(files), by=city.itsa)
    before = written_counts()
    events = AuditEvent.objects.count()

    plan = import_plan(files)
    assert {row.outcome for row in plan.rows} == {UNCHANGED}
    applied = import_apply(plan, by=city.itsa)

    assert applied.batch is None and applied.validations == []
    assert written_counts() == before
    assert AuditEvent.objects.count() == events


def test_a_changed_row_is_a_change(city, files):
    import_apply(import_plan(files), by=city.itsa)
    replace(files, "accounts.csv", "building-protection;crime-detection", "building-protection")
    replace(files, "people.csv", "Fire inspector", "Senior fire inspector")
    plan = import_plan(files)
    changed = {(row.file, row.line) for row in plan.rows if row.outcome == CHANGE}
    assert changed == {("accounts.csv", 2), ("people.csv", 3)}
    import_apply(plan, by=city.itsa)
    assert list(Grant.objects.get(account_name="iinspector").permissible_uses.values_list("code", flat=True)) == [
        "building-protection"]
    assert User.objects.get(employee_id="E1002").title == "Senior fire inspector"


def test_a_plan_with_a_refused_row_writes_nothing(city, files):
    replace(files, "accounts.csv", "vadmin,administrator,", "vadmin,superuser,")
    plan = import_plan(files)
    before = written_counts()
    with pytest.raises(RuleViolation, match="Nothing was imported"):
        import_apply(plan, by=city.itsa)
    assert written_counts() == before
    assert AuditEvent.objects.filter(action="adoption.import", outcome="refused").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_row_that_fails_while_writing_rolls_the_whole_import_back(files):
    """All or nothing on PostgreSQL: the portal changed after the plan, the last account clashes, and
    the departments, people and systems written before it are gone too."""
    from conftest import build_city

    city = build_city()
    plan = import_plan(files)
    SurveillanceSystem.objects.create(name="Transit Traffic Cameras", code="transit-cams", kind="traffic")
    with transaction.atomic():
        grant_open(person=city.officer, system=SurveillanceSystem.objects.get(code="transit-cams"),
                   department=city.police, role="end_user", account_name="ooperator",
                   permissible_uses=[PermissibleUse.objects.get(code="traffic-monitoring")], by=city.itsa)
    before = written_counts()

    with pytest.raises(RuleViolation, match="Nothing was imported: accounts.csv:4"):
        import_apply(plan, by=city.itsa)

    assert written_counts() == before
    assert not Department.objects.filter(code="fire").exists()
    assert not User.objects.filter(employee_id="E1002").exists()


def test_only_itsa_imports(city, files):
    """S3.5b: ITSA creates and manages every account."""
    before = written_counts()
    with pytest.raises(NotAllowed):
        import_apply(import_plan(files), by=city.head)
    assert written_counts() == before
    assert AuditEvent.objects.filter(action="adoption.import", outcome="denied", actor=city.head).exists()


def test_refused_rows_name_their_file_and_line(city, files):
    replace(files, "departments.csv", "transit,Transit Commission,commission", "transit,Transit Commission,agency")
    first, *then = import_plan(files).refused
    assert str(first) == ("departments.csv:3: refused department transit: Unknown kind “agency”: use one of "
                          "department, board, commission.")
    # What rests on a refused row is refused in turn, each with its own reason.
    assert {(row.file, row.line) for row in then} >= {("people.csv", 5), ("accounts.csv", 4)}


def test_a_person_already_in_the_portal_without_an_employee_id_is_matched_by_email(city, files):
    """The import adopts people entered by hand: it gives them their employee id, keeps them, and
    checks their accounts against their own grants (S3.2a)."""
    grant_open(person=city.officer, system=city.vms, department=city.police, role="end_user",
               account_name="oofficer", permissible_uses=[city.crime_detection], by=city.itsa)
    add_line(files, "people.csv", f"P9,{city.officer.email},Olive Officer,Detective,police,")
    add_line(files, "accounts.csv", "vms,P9,oofficer,end_user,police,crime-detection,")
    add_line(files, "accounts.csv", "vms,P9,oofficer-admin,administrator,police,crime-detection,")
    plan = import_plan(files)

    [person_row] = [row for row in plan.rows if (row.file, row.line) == ("people.csv", 7)]
    assert person_row.outcome == CHANGE and "employee id" in person_row.reason
    [kept] = [row for row in plan.rows if (row.file, row.line) == ("accounts.csv", 5)]
    assert kept.outcome == UNCHANGED
    assert "separation-of-duties conflict" in only_refusal(plan, "accounts.csv", 6)


# --- A re-run with a changed end date ----------------------------------------------------------------

def test_a_changed_end_date_is_a_change_and_is_written_with_its_history(city, files):
    """Def.T: a temporary account's end day comes from the files; a re-run that moves it changes the
    grant (it used to say "unchanged" and keep the old day)."""
    import_apply(import_plan(files), by=city.itsa)
    grant = Grant.objects.get(account_name="iinspector")
    assert grant.ends_on is None
    until = timezone.localdate() + timedelta(days=20)
    replace(files, "accounts.csv", "building-protection;crime-detection,", f"building-protection;crime-detection,{until}")

    plan = import_plan(files)
    [row] = [row for row in plan.rows if row.outcome == CHANGE]
    assert (row.file, row.line, row.reason) == ("accounts.csv", 2, "new end date")
    applied = import_apply(plan, by=city.itsa)

    grant.refresh_from_db()
    assert grant.ends_on == until and grant.is_live
    latest = grant.history.order_by("-history_date", "-history_id").first()
    assert latest.ends_on == until and latest.history_user_id == city.itsa.pk
    assert latest.history_change_reason == f"end date changed by {city.itsa}"
    assert applied.batch.counts["accounts.csv"] == {"create": 0, "change": 1}
    assert {row.outcome for row in import_plan(files).rows} == {UNCHANGED}


def test_an_end_date_taken_away_and_new_uses_are_one_change(city, files):
    """Def.T: an account the files no longer give an end day becomes open-ended again."""
    until = timezone.localdate() + timedelta(days=20)
    replace(files, "accounts.csv", "iinspector,end_user,fire,building-protection;crime-detection,",
            f"iinspector,end_user,fire,building-protection;crime-detection,{until}")
    import_apply(import_plan(files), by=city.itsa)
    assert Grant.objects.get(account_name="iinspector").ends_on == until
    replace(files, "accounts.csv", f"building-protection;crime-detection,{until}", "building-protection,")

    plan = import_plan(files)
    [row] = [row for row in plan.rows if row.outcome == CHANGE]
    assert row.reason == "new permissible uses, end date"
    import_apply(plan, by=city.itsa)
    grant = Grant.objects.get(account_name="iinspector")
    assert grant.ends_on is None
    assert list(grant.permissible_uses.values_list("code", flat=True)) == ["building-protection"]


def test_an_end_date_already_past_is_refused_on_a_re_run(city, files):
    """Def.T: the files cannot end an existing account in the past."""
    import_apply(import_plan(files), by=city.itsa)
    replace(files, "accounts.csv", "building-protection;crime-detection,",
            f"building-protection;crime-detection,{timezone.localdate()}")
    assert "would already have ended" in only_refusal(import_plan(files), "accounts.csv", 2)


# --- Written in bulk, as grant_open writes ------------------------------------------------------------

def _history_shape(grant):
    rows = grant.history.order_by("history_date", "history_id")
    return [(row.history_type, row.history_user_id, row.history_change_reason, row.status, row.role,
             sorted(row.permissible_uses.values_list("permissibleuse__code", flat=True))) for row in rows]


def test_a_grant_written_in_bulk_has_the_fields_and_history_grant_open_gives(city, files):
    """S3.10: every imported grant has its history from its creation, as one opened in the portal."""
    import_apply(import_plan(files), by=city.itsa)
    imported = Grant.objects.get(account_name="iinspector")
    # As the import opened grants one by one: grant_open inside a service run by the importer.
    opened = service_transaction(lambda *, by: grant_open(
        person=city.officer, system=city.vms, department=city.police, role="end_user", account_name="oofficer",
        by=by, permissible_uses=list(PermissibleUse.objects.filter(code__in=["building-protection",
                                                                             "crime-detection"]))))(by=city.itsa)

    assert _history_shape(imported) == _history_shape(opened)
    assert [row[:2] for row in _history_shape(imported)] == [("+", city.itsa.pk), ("~", city.itsa.pk)]
    assert (imported.provisioned_by, imported.status, imported.view_only, imported.ends_on) == (
        opened.provisioned_by, opened.status, opened.view_only, opened.ends_on)
    assert imported.provisioned_at is not None and imported.ended_at is None


def test_a_city_import_makes_one_audit_event_for_all_its_grants(city, files):
    """S3.10: the batch is the written record of the grants it made; its audit event names the files."""
    before = AuditEvent.objects.count()
    applied = import_apply(import_plan(files), by=city.itsa)
    assert AuditEvent.objects.filter(action="adoption.import", target=str(applied.batch)).count() == 1
    # The other events are the heads' appointments (and invitations) and the validations' opening.
    actions = set(AuditEvent.objects.order_by("seq")[before:].values_list("action", flat=True))
    assert actions == {"adoption.import", "department.set_head", "invitation.send", "validation.open"}


# --- The rules, read in bulk ---------------------------------------------------------------------------

def test_someone_who_reads_for_oversight_is_refused_an_account(city, files):
    """S3.2a: nobody audits a system they have access to; the auditor holds no grant, so only the
    separation-of-duties rule itself knows it."""
    add_line(files, "people.csv", f"A1,{city.auditor.email},{city.auditor.full_name},Auditor,police,")
    add_line(files, "accounts.csv", "vms,A1,aauditor,end_user,police,crime-detection,")
    reason = only_refusal(import_plan(files), "accounts.csv", 5)
    assert "separation-of-duties conflict" in reason and "oversight" in reason


def test_a_conflict_that_arises_after_the_check_is_refused_when_writing(city, files):
    """S3.2a, S3.2b: the grant is checked again when it is written; the whole import rolls back."""
    User.objects.filter(pk=city.officer.pk).update(employee_id="P1")
    add_line(files, "accounts.csv", "vms,P1,oofficer,end_user,police,crime-detection,")
    plan = import_plan(files)
    assert plan.refused == []
    with transaction.atomic():
        grant_open(person=city.officer, system=city.vms, department=city.police, role="administrator",
                   account_name="oofficer-admin", permissible_uses=[city.crime_detection], by=city.itsa)
    before = written_counts()

    with pytest.raises(RuleViolation, match="Nothing was imported: accounts.csv:5: .*Section 3.2"):
        import_apply(plan, by=city.itsa)
    assert written_counts() == before


def test_a_second_account_for_the_same_role_in_the_files_is_refused(city, files):
    """JC19a: one role on a system is one account; the files cannot give a person two."""
    add_line(files, "accounts.csv", "fire-vms,E1002,iinspector2,end_user,fire,building-protection,")
    assert "already has an account for the end user role" in only_refusal(import_plan(files), "accounts.csv", 5)


def test_a_person_is_matched_by_email_whatever_its_case(city, files):
    """As the portal matches e-mail addresses (whatever their case), so does the import."""
    User.objects.filter(pk=city.officer.pk).update(email="Olive.Officer@Police.Example")
    add_line(files, "people.csv", "P9,olive.officer@police.example,Olive Officer,Officer,police,")
    plan = import_plan(files)
    [row] = [row for row in plan.rows if (row.file, row.line) == ("people.csv", 7)]
    assert row.outcome == CHANGE and row.data["pk"] == city.officer.pk
