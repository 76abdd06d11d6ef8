"""Separation of duties (S3.2a, S3.2b): the one rule, asked directly."""

import pytest
from django.utils import timezone

from accounts.models import Grant
from accounts.sod import sod_conflict, sod_violations


def _grant(city, role, *, person=None, system=None, status=Grant.Status.ACTIVE):
    """A grant written straight to the table, as imported data or a direct database edit would be."""
    person = person or city.officer
    return Grant.objects.create(
        person=person, system=system or city.vms, department=city.police, role=role, status=status,
        account_name=f"{person.pk}-{role}-{status}", provisioned_at=timezone.now(), provisioned_by=city.itsa,
    )


def _conflict(city, *roles, person=None, system=None, **kwargs):
    return sod_conflict(person=person or city.officer, system=system or city.vms, roles=list(roles), **kwargs)


def test_an_end_user_cannot_also_become_administrator(city):
    """S3.2a"""
    _grant(city, Grant.Role.END_USER)

    problem = _conflict(city, Grant.Role.ADMINISTRATOR)

    assert problem and "end user" in problem and "3.2" in problem


def test_an_administrator_cannot_also_become_an_end_user(city):
    """S3.2b"""
    _grant(city, Grant.Role.ADMINISTRATOR)

    problem = _conflict(city, Grant.Role.END_USER)

    assert problem and "administrator" in problem and "3.2" in problem


@pytest.mark.parametrize("staff_role", [Grant.Role.MONITOR, Grant.Role.AUDITOR])
def test_monitors_and_auditors_count_as_staff(city, staff_role):
    """S3.2a: no end user monitors or audits a system they use."""
    _grant(city, Grant.Role.END_USER)
    assert _conflict(city, staff_role)

    _grant(city, staff_role, person=city.analyst)
    assert _conflict(city, Grant.Role.END_USER, person=city.analyst)


def test_staff_roles_do_not_conflict_with_each_other(city):
    """S3.2a: the rule is between the two sides, not among staff roles."""
    _grant(city, Grant.Role.ADMINISTRATOR)

    assert _conflict(city, Grant.Role.AUDITOR) is None
    assert _conflict(city, Grant.Role.MONITOR) is None


def test_both_roles_arriving_in_one_change_conflict(city):
    """S3.2a S3.2b: refused even when the person holds nothing yet."""
    assert _conflict(city, Grant.Role.END_USER, Grant.Role.ADMINISTRATOR)
    assert _conflict(city, Grant.Role.AUDITOR, Grant.Role.END_USER)


def test_a_role_already_on_its_way_from_the_other_side_conflicts(city):
    """S3.2a: two requests in flight for opposite sides."""
    assert _conflict(city, Grant.Role.ADMINISTRATOR, also_arriving=[Grant.Role.END_USER])
    assert _conflict(city, Grant.Role.END_USER, also_arriving=[Grant.Role.MONITOR])
    assert _conflict(city, Grant.Role.END_USER, also_arriving=[Grant.Role.END_USER]) is None


def test_a_suspended_grant_still_counts(city):
    """S3.2a: a suspension can be lifted, so the account still exists."""
    _grant(city, Grant.Role.END_USER, status=Grant.Status.SUSPENDED)

    assert _conflict(city, Grant.Role.ADMINISTRATOR)


def test_a_removed_grant_does_not_count(city):
    """S3.2a"""
    _grant(city, Grant.Role.END_USER, status=Grant.Status.REMOVED)

    assert _conflict(city, Grant.Role.ADMINISTRATOR) is None


def test_a_grant_being_replaced_does_not_count(city):
    """S3.2a: a change from end user to auditor replaces the end-user grant."""
    grant = _grant(city, Grant.Role.END_USER)

    assert _conflict(city, Grant.Role.AUDITOR, ignore_grant_ids=[grant.pk]) is None


def test_roles_on_different_systems_do_not_conflict(city):
    """S3.2a: the rule is per system."""
    _grant(city, Grant.Role.END_USER, system=city.vms)

    assert _conflict(city, Grant.Role.ADMINISTRATOR, system=city.lpr) is None


def test_other_peoples_grants_do_not_conflict(city):
    """S3.2a: the rule is per person."""
    _grant(city, Grant.Role.END_USER, person=city.analyst)

    assert _conflict(city, Grant.Role.ADMINISTRATOR) is None


def test_no_roles_is_no_conflict(city):
    """S3.2a"""
    _grant(city, Grant.Role.END_USER)

    assert _conflict(city) is None


def test_the_scan_finds_nothing_in_a_clean_city(city):
    """S3.2a S3.2b"""
    _grant(city, Grant.Role.END_USER)
    _grant(city, Grant.Role.ADMINISTRATOR, system=city.lpr)
    _grant(city, Grant.Role.ADMINISTRATOR, person=city.analyst)
    _grant(city, Grant.Role.AUDITOR, person=city.analyst)

    assert sod_violations() == []


def test_the_scan_finds_a_violation_written_straight_to_the_database(city):
    """S3.2a S3.2b: imported data and direct edits bypass the services; the scan still sees them."""
    end_user = _grant(city, Grant.Role.END_USER)
    admin = _grant(city, Grant.Role.ADMINISTRATOR)
    _grant(city, Grant.Role.END_USER, person=city.analyst)

    violations = sod_violations()

    assert len(violations) == 1
    assert violations[0].person == city.officer and violations[0].system == city.vms
    assert {g.pk for g in violations[0].grants} == {end_user.pk, admin.pk}
    assert city.officer.email in str(violations[0])


def test_the_scan_counts_suspended_grants_and_ignores_removed_ones(city):
    """S3.2a"""
    _grant(city, Grant.Role.END_USER, status=Grant.Status.SUSPENDED)
    _grant(city, Grant.Role.MONITOR)
    _grant(city, Grant.Role.END_USER, person=city.analyst, status=Grant.Status.REMOVED)
    _grant(city, Grant.Role.ADMINISTRATOR, person=city.analyst)

    violations = sod_violations()

    assert [(v.person, v.system) for v in violations] == [(city.officer, city.vms)]
