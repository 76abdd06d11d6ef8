"""JC19a: individual accounts. An account name belongs to one live grant on a system: the rule once
in accounts.services (account_name_problem), the database's constraint behind it, the refusal at
provisioning, and an admin that offers no way around it."""

import importlib
from contextlib import contextmanager
from datetime import timedelta

import pytest
from conftest import file_request
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Grant, User
from accounts.services import account_name_problem, grant_change, grant_open, grant_set_status
from agreements.services import agreement_decide, agreement_request, third_party_access_add
from access_requests.models import AccessRequest
from access_requests.services import access_request_approve, access_request_provision
from portal.errors import RuleViolation
from portal.models import AuditEvent

CONSTRAINT = "one_live_grant_per_system_account_name"
MIGRATION = importlib.import_module("accounts.migrations.0012_one_live_grant_per_system_account_name")


def _open(city, person, account_name, *, system=None, role=Grant.Role.END_USER):
    return grant_open(person=person, system=system or city.vms, department=city.police, role=role,
                      account_name=account_name, permissible_uses=[city.crime_detection], by=city.itsa)


def _raw(city, person, account_name, *, system=None, role=Grant.Role.END_USER, status=Grant.Status.ACTIVE):
    """A grant written straight to the table, past every service, as a direct database edit would be."""
    return Grant.objects.create(person=person, system=system or city.vms, department=city.police, role=role,
                                status=status, account_name=account_name, provisioned_at=timezone.now(),
                                provisioned_by=city.itsa)


@contextmanager
def _constraint_absent():
    """The table as a database kept before JC19a has it. PostgreSQL rolls DDL back with the test's
    transaction, so the constraint is back for the next test."""
    constraint = next(c for c in Grant._meta.constraints if c.name == CONSTRAINT)
    with connection.schema_editor() as editor:
        editor.remove_constraint(Grant, constraint)
    yield


# --- The rule, in the service ---------------------------------------------------------------------

def test_a_name_another_person_holds_on_the_system_is_refused_and_the_holder_named(city):
    """JC19a"""
    _open(city, city.officer, "olive")

    with pytest.raises(RuleViolation) as refusal:
        _open(city, city.analyst, "olive")

    assert refusal.value.field == "account_name"
    assert "“olive”" in refusal.value.message and "Citywide VMS" in refusal.value.message
    assert "Olive Officer holds it" in refusal.value.message and "end user role" in refusal.value.message
    assert not Grant.objects.filter(person=city.analyst).exists()


@pytest.mark.parametrize("typed", ["OLIVE", "Olive", " olive ", "  oLiVe\t"])
def test_a_name_differing_only_in_case_or_surrounding_spaces_is_the_same_account(city, typed):
    """JC19a: the system knows a person by the name, and its use reports match it whatever its case."""
    _open(city, city.officer, "olive")

    with pytest.raises(RuleViolation, match="Olive Officer holds it"):
        _open(city, city.analyst, typed)


def test_a_stored_name_with_surrounding_spaces_still_clashes(city):
    """JC19a: a name kept with spaces around it (written before the services trimmed it)."""
    _raw(city, city.officer, "  Olive ")

    assert "Olive Officer holds it" in account_name_problem(system=city.vms, account_name="olive", person=city.analyst)


def test_a_suspended_grant_keeps_its_name(city):
    """JC19a: a suspended account still exists on the system."""
    grant_set_status(grant=_open(city, city.officer, "olive"), status=Grant.Status.SUSPENDED, by=city.itsa)

    with pytest.raises(RuleViolation, match="end user role, suspended"):
        _open(city, city.analyst, "olive")


def test_a_removed_grants_name_can_be_used_again(city):
    """JC19a: the rule is among live grants; a removed account is closed on the system."""
    grant_set_status(grant=_open(city, city.officer, "olive"), status=Grant.Status.REMOVED, by=city.itsa)

    grant = _open(city, city.analyst, "olive")

    assert grant.status == Grant.Status.ACTIVE and grant.account_name == "olive"


def test_another_system_may_use_the_same_name(city):
    """JC19a: the name is unique per system."""
    _open(city, city.officer, "olive")

    grant = _open(city, city.analyst, "olive", system=city.lpr)

    assert (grant.system, grant.account_name) == (city.lpr, "olive")


def test_the_same_person_gives_a_second_role_its_own_account(city):
    """JC19a: each grant is one account with one role, so the same person's second role on a system
    needs its own name (the decision in account_name_problem)."""
    _open(city, city.analyst, "andy", role=Grant.Role.ADMINISTRATOR)

    with pytest.raises(RuleViolation) as refusal:
        _open(city, city.analyst, "Andy", role=Grant.Role.AUDITOR)

    assert refusal.value.field == "account_name"
    assert refusal.value.message.startswith("Andy Analyst already holds the account “andy” on Citywide VMS")
    assert "administrator role" in refusal.value.message
    assert _open(city, city.analyst, "andy-audit", role=Grant.Role.AUDITOR).status == Grant.Status.ACTIVE


def test_a_change_to_a_name_in_use_is_refused_and_the_grant_kept(city):
    """JC19a"""
    _open(city, city.officer, "olive")
    grant = _open(city, city.analyst, "andy")

    with pytest.raises(RuleViolation, match="Olive Officer holds it") as refusal:
        grant_change(grant=grant, role=grant.role, permissible_uses=[city.crime_detection], account_name=" OLIVE",
                     by=city.itsa)

    assert refusal.value.field == "account_name"
    grant.refresh_from_db()
    assert grant.account_name == "andy"


def test_a_grant_may_change_the_case_of_its_own_name(city):
    """JC19a: a grant never clashes with itself."""
    grant = _open(city, city.officer, "olive")

    grant = grant_change(grant=grant, role=grant.role, permissible_uses=[city.crime_detection], account_name="Olive",
                         by=city.itsa)

    assert grant.account_name == "Olive"


def test_reinstating_a_suspended_grant_whose_name_was_taken_meanwhile_is_refused(city):
    """JC19a: a clash left from before the rule is not made live again by a reinstatement."""
    suspended = grant_set_status(grant=_open(city, city.officer, "olive"), status=Grant.Status.SUSPENDED,
                                 by=city.itsa)
    with _constraint_absent():
        _raw(city, city.analyst, "Olive")

        with pytest.raises(RuleViolation) as refusal:
            grant_set_status(grant=suspended, status=Grant.Status.ACTIVE, by=city.itsa)

        assert "Andy Analyst holds it" in refusal.value.message and "before this access is reinstated" in (
            refusal.value.message)
        suspended.refresh_from_db()
        assert suspended.status == Grant.Status.SUSPENDED


def test_a_third_partys_person_cannot_be_given_a_name_in_use(city):
    """JC19a: access under a sharing agreement goes through the same rule (grant_open)."""
    _open(city, city.officer, "deputy")
    today = timezone.localdate()
    agreement = agreement_request(
        department=city.police, third_party="County Sheriff's Office", category="law_enforcement",
        shared="View-only access to video.", conditions="Active criminal investigations.", excludes_biometric=True,
        systems=[city.vms], starts_on=today, ends_on=today + timedelta(days=90), by=city.head,
    )
    agreement = agreement_decide(agreement=agreement, approve=True, reason="The Mayor signed it.",
                                 mayor_approved_on=today, by=city.designee)

    with pytest.raises(RuleViolation, match="Olive Officer holds it") as refusal:
        third_party_access_add(agreement=agreement, full_name="Dale Deputy", email="deputy@sheriff.example",
                               system=city.vms, permissible_uses=[city.crime_detection], account_name="Deputy",
                               by=city.itsa)

    assert refusal.value.field == "account_name"
    assert not User.objects.filter(email="deputy@sheriff.example").exists()


# --- The database, when the services are bypassed -------------------------------------------------

@pytest.mark.parametrize("name", ["olive", "OLIVE", " olive "])
def test_the_database_refuses_a_second_live_grant_with_the_name(city, name):
    """JC19a: the way around the service, a raw write, meets the unique constraint."""
    _raw(city, city.officer, "olive")

    with pytest.raises(IntegrityError, match=CONSTRAINT), transaction.atomic():
        _raw(city, city.analyst, name, status=Grant.Status.SUSPENDED)


def test_the_database_refuses_a_removed_grant_made_live_again_into_a_taken_name(city):
    """JC19a"""
    removed = _raw(city, city.officer, "olive", status=Grant.Status.REMOVED)
    _raw(city, city.analyst, "olive")

    with pytest.raises(IntegrityError, match=CONSTRAINT), transaction.atomic():
        Grant.objects.filter(pk=removed.pk).update(status=Grant.Status.ACTIVE)


def test_the_database_lets_removed_grants_and_other_systems_share_a_name(city):
    """JC19a"""
    _raw(city, city.officer, "olive", status=Grant.Status.REMOVED)
    _raw(city, city.analyst, "olive", status=Grant.Status.REMOVED)
    _raw(city, city.head, "olive")
    _raw(city, city.requester, "olive", system=city.lpr)

    assert Grant.objects.filter(account_name="olive").count() == 4


# --- The migration's check of an existing database ------------------------------------------------

def test_the_migration_finds_no_clash_in_a_clean_database(city):
    """JC19a"""
    _raw(city, city.officer, "olive")
    _raw(city, city.analyst, "olive", system=city.lpr)
    _raw(city, city.head, "olive", status=Grant.Status.REMOVED)

    assert MIGRATION.live_account_name_clashes(Grant) == []


def test_the_migration_stops_on_clashing_names_and_says_which_and_what_to_do(city):
    """JC19a: a database that holds the same name twice on a system stops the migration in words,
    not on a bare IntegrityError."""
    from django.apps import apps

    with _constraint_absent():
        first = _raw(city, city.officer, "olive")
        second = _raw(city, city.analyst, " OLIVE", status=Grant.Status.SUSPENDED)
        _raw(city, city.head, "olive", status=Grant.Status.REMOVED)  # removed: no clash
        _raw(city, city.requester, "olive", system=city.lpr)  # another system: no clash
        third = _raw(city, city.requester, "rick")
        fourth = _raw(city, city.head, "Rick")

        groups = MIGRATION.live_account_name_clashes(Grant)
        with pytest.raises(CommandError) as stopped:
            MIGRATION.refuse_clashing_account_names(apps, None)

    assert [[grant.pk for grant in group] for group in groups] == [[first.pk, second.pk], [third.pk, fourth.pk]]
    message = str(stopped.value)
    assert "- Citywide VMS, account name “olive”:" in message
    assert f"grant {first.pk}: Olive Officer (end_user, active" in message
    assert f"grant {second.pk}: Andy Analyst (end_user, suspended" in message
    assert f"grant {third.pk}: Rick Requester" in message and f"grant {fourth.pk}: Hana Head" in message
    assert "Plate Readers" not in message
    assert "change request" in message and "run the migrations again" in message


# --- At provisioning ------------------------------------------------------------------------------

def test_the_provision_page_refuses_a_name_in_use_and_writes_nothing(city, client):
    """JC19a: ITSA sees the clash, and the request and the grants stay as they were."""
    _open(city, city.analyst, "olive.officer")
    request = access_request_approve(request=file_request(city), by=city.head)
    grants_before = Grant.objects.count()
    client.force_login(city.itsa)

    response = client.post(reverse("requests:provision", args=[request.pk]), {"account_name": "Olive.Officer"})

    # The refusal stays on the account-name field, with the name as typed.
    assert response.status_code == 200
    form = response.context["provision_form"]
    [text] = form.errors["account_name"]
    assert "“Olive.Officer”" in text and "Andy Analyst holds it" in text and "Citywide VMS" in text
    assert 'value="Olive.Officer"' in response.content.decode()
    request.refresh_from_db()
    assert request.is_with_itsa and request.grant is None and request.account_name == ""
    assert request.processed_by is None and request.status == AccessRequest.Status.WITH_ITSA
    assert Grant.objects.count() == grants_before and not Grant.objects.filter(person=city.officer).exists()
    assert AuditEvent.objects.filter(action="access_request.provision", outcome="refused").exists()
    assert not AuditEvent.objects.filter(action="access_request.provision", outcome="success").exists()
    assert "Andy Analyst holds it" in response.content.decode()


def test_provisioning_a_change_to_a_name_in_use_is_refused(city):
    """JC19a: a change request that renames the account meets the same rule."""
    _open(city, city.analyst, "andy")
    request = access_request_provision(request=access_request_approve(request=file_request(city), by=city.head),
                                       by=city.itsa, account_name="olive")
    change = access_request_approve(request=file_request(city, action="change", uses=[city.investigations]),
                                    by=city.head)

    with pytest.raises(RuleViolation, match="Andy Analyst holds it"):
        access_request_provision(request=change, by=city.itsa, account_name="ANDY")

    change.refresh_from_db()
    assert change.is_with_itsa
    assert Grant.objects.get(pk=request.grant.pk).account_name == "olive"


# --- The admin ------------------------------------------------------------------------------------

@pytest.fixture
def itsa_admin(city, client):
    User.objects.filter(pk=city.itsa.pk).update(is_staff=True, is_superuser=True)
    client.force_login(city.itsa)
    return client


def _grant_form(city, person, account_name):
    return {"person": person.pk, "system": city.vms.pk, "department": city.police.pk, "role": "end_user",
            "status": "active", "account_name": account_name, "provisioned_at_0": "2026-01-01",
            "provisioned_at_1": "00:00:00", "provisioned_by": city.itsa.pk}


def test_the_admin_cannot_add_or_rename_a_grant_into_a_name_in_use(city, itsa_admin):
    """JC19a: grants are read-only in the admin, so it is no way around the rule."""
    held = _open(city, city.officer, "olive")
    other = _open(city, city.analyst, "andy")

    added = itsa_admin.post(reverse("admin:accounts_grant_add"), _grant_form(city, city.head, "olive"))
    renamed = itsa_admin.post(reverse("admin:accounts_grant_change", args=[other.pk]),
                              _grant_form(city, city.analyst, "OLIVE"))

    assert added.status_code == renamed.status_code == 403
    assert list(Grant.objects.filter(account_name__iexact="olive")) == [held]
    other.refresh_from_db()
    assert other.account_name == "andy"


def test_the_admin_cannot_revert_a_removed_grant_into_a_name_taken_since(city, itsa_admin):
    """JC19a: an old version from the history is never written back."""
    removed = grant_set_status(grant=_open(city, city.officer, "olive"), status=Grant.Status.REMOVED, by=city.itsa)
    _open(city, city.analyst, "olive")
    first = removed.history.earliest("history_date")
    url = reverse("admin:accounts_grant_simple_history", args=[removed.pk, first.history_id])

    response = itsa_admin.post(url, {**_grant_form(city, city.officer, "olive"), "status": "active"})

    assert response.status_code == 403
    removed.refresh_from_db()
    assert removed.status == Grant.Status.REMOVED
