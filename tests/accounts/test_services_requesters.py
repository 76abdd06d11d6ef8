"""The list of authorized requesters ITSA keeps per department (S3.3), and the department's object
permission that follows it."""

from datetime import timedelta

import pytest
from conftest import file_request
from django.utils import timezone

from accounts.models import AuthorizedRequester, Department, User
from accounts.services import (
    DEPARTMENT_PERM,
    authorized_requester_add,
    authorized_requester_end,
    department_set_head,
    is_authorized_requester,
)
from portal.errors import NotAllowed, RuleViolation
from portal.models import AuditEvent
from access_requests.models import AccessRequest
from access_requests.services import access_request_submit


def _today():
    return timezone.localdate()


def _fresh(user):
    """Guardian caches object permissions on the user instance: read them from a new one."""
    return User.objects.get(pk=user.pk)


def _listed(city, person, *, start, end=None):
    return authorized_requester_add(department=city.police, person=person, by=city.itsa, start_date=start, end_date=end)


def test_a_current_entry_on_the_list_may_file_a_request(city):
    """S3.3"""
    _listed(city, city.analyst, start=_today())

    request = file_request(city, by=city.analyst)

    assert request.requested_by == city.analyst
    assert AccessRequest.objects.filter(pk=request.pk).exists()


def test_a_person_never_listed_may_not_file_a_request(city):
    """S3.3"""
    with pytest.raises(NotAllowed):
        file_request(city, by=city.analyst)

    assert not AccessRequest.objects.exists()
    assert AuditEvent.objects.filter(actor=city.analyst, action="access_request.submit", outcome="denied").exists()


def test_an_entry_that_starts_tomorrow_may_not_file_today(city):
    """S3.3"""
    _listed(city, city.analyst, start=_today() + timedelta(days=1))

    with pytest.raises(NotAllowed):
        file_request(city, by=city.analyst)


def test_an_entry_whose_end_date_has_passed_may_not_file(city):
    """S3.3"""
    _listed(city, city.analyst, start=_today() - timedelta(days=30), end=_today() - timedelta(days=1))

    with pytest.raises(NotAllowed):
        file_request(city, by=city.analyst)


def test_a_head_who_is_not_on_the_list_may_not_file(city):
    """S3.3: heading a department is not enough; the head must be on the list kept with ITSA."""
    parks = Department.objects.create(name="Parks Department", code="parks")
    parks_head = User.objects.create_user(email="head@parks.example", full_name="Pat Parks", department=parks)
    parks_worker = User.objects.create_user(email="worker@parks.example", full_name="Wes Parks", department=parks)
    department_set_head(department=parks, head=parks_head, by=city.itsa)

    with pytest.raises(NotAllowed):
        access_request_submit(
            department=parks, person=parks_worker, system=city.vms, action="add", role="end_user",
            permissible_uses=[city.crime_detection], justification="Park patrols.", by=parks_head,
        )

    assert not AccessRequest.objects.exists()


def test_only_itsa_adds_a_person_to_the_list(city):
    """S3.3"""
    with pytest.raises(NotAllowed):
        authorized_requester_add(department=city.police, person=city.analyst, by=city.head)

    assert not AuthorizedRequester.objects.filter(person=city.analyst).exists()
    assert AuditEvent.objects.filter(actor=city.head, action="requester.add", outcome="denied").exists()


def test_only_itsa_ends_an_entry_on_the_list(city):
    """S3.3"""
    entry = AuthorizedRequester.objects.get(person=city.requester, department=city.police)

    with pytest.raises(NotAllowed):
        authorized_requester_end(entry=entry, by=city.head)

    entry.refresh_from_db()
    assert entry.end_date is None


def test_a_person_of_another_department_cannot_be_added_to_the_list(city):
    """S3.3: the list names the department's own people."""
    with pytest.raises(RuleViolation):
        authorized_requester_add(department=city.police, person=city.streets_worker, by=city.itsa)

    assert not AuthorizedRequester.objects.filter(person=city.streets_worker).exists()


def test_a_deactivated_person_cannot_be_added_to_the_list(city):
    """S3.3"""
    city.analyst.is_active = False
    city.analyst.save()

    with pytest.raises(RuleViolation):
        authorized_requester_add(department=city.police, person=city.analyst, by=city.itsa)

    assert not AuthorizedRequester.objects.filter(person=city.analyst).exists()


def test_an_entry_overlapping_an_existing_one_is_refused(city):
    """S3.3"""
    _listed(city, city.analyst, start=_today(), end=_today() + timedelta(days=60))

    with pytest.raises(RuleViolation):
        _listed(city, city.analyst, start=_today() + timedelta(days=30))

    assert AuthorizedRequester.objects.filter(person=city.analyst).count() == 1


def test_an_entry_after_a_past_one_ended_is_accepted(city):
    """S3.3: the past stays on record next to the new entry."""
    _listed(city, city.analyst, start=_today() - timedelta(days=30), end=_today() - timedelta(days=10))

    _listed(city, city.analyst, start=_today())

    assert AuthorizedRequester.objects.filter(person=city.analyst).count() == 2
    assert is_authorized_requester(person=city.analyst, department=city.police)


def test_an_end_date_before_the_start_date_is_refused_when_adding(city):
    """S3.3"""
    with pytest.raises(RuleViolation) as refusal:
        _listed(city, city.analyst, start=_today(), end=_today() - timedelta(days=1))

    assert refusal.value.field == "end_date"
    assert not AuthorizedRequester.objects.filter(person=city.analyst).exists()


def test_an_end_date_before_the_start_date_is_refused_when_ending(city):
    """S3.3"""
    entry = _listed(city, city.analyst, start=_today())

    with pytest.raises(RuleViolation):
        authorized_requester_end(entry=entry, by=city.itsa, end_date=_today() - timedelta(days=1))

    entry.refresh_from_db()
    assert entry.end_date is None


def test_ending_an_entry_twice_has_one_effect(city):
    """S3.3"""
    entry = _listed(city, city.analyst, start=_today() - timedelta(days=10))
    yesterday = _today() - timedelta(days=1)

    authorized_requester_end(entry=entry, by=city.itsa, end_date=yesterday)
    authorized_requester_end(entry=entry, by=city.itsa, end_date=yesterday)

    entry.refresh_from_db()
    assert entry.end_date == yesterday
    assert AuditEvent.objects.filter(action="requester.end", outcome="success").count() == 1
    assert entry.history.filter(end_date=yesterday).count() == 1


def test_a_person_added_to_the_list_gets_the_department_permission(city):
    """S3.3"""
    assert not _fresh(city.analyst).has_perm(DEPARTMENT_PERM, city.police)

    _listed(city, city.analyst, start=_today())

    assert _fresh(city.analyst).has_perm(DEPARTMENT_PERM, city.police)
    assert not _fresh(city.analyst).has_perm(DEPARTMENT_PERM, city.streets)


def test_a_person_whose_entry_ends_loses_the_department_permission(city):
    """S3.3"""
    entry = _listed(city, city.analyst, start=_today() - timedelta(days=10))
    assert _fresh(city.analyst).has_perm(DEPARTMENT_PERM, city.police)

    authorized_requester_end(entry=entry, by=city.itsa, end_date=_today() - timedelta(days=1))

    assert not _fresh(city.analyst).has_perm(DEPARTMENT_PERM, city.police)


def test_an_entry_that_has_not_started_gives_no_permission_yet(city):
    """S3.3"""
    _listed(city, city.analyst, start=_today() + timedelta(days=7))

    assert not _fresh(city.analyst).has_perm(DEPARTMENT_PERM, city.police)


def test_a_new_head_takes_the_department_permission_from_the_old_one(city):
    """S3.3: the head always holds the permission; a former head not on the list loses it."""
    parks = Department.objects.create(name="Parks Department", code="parks")
    first = User.objects.create_user(email="first@parks.example", full_name="Fay First", department=parks)
    second = User.objects.create_user(email="second@parks.example", full_name="Sam Second", department=parks)
    department_set_head(department=parks, head=first, by=city.itsa)
    assert _fresh(first).has_perm(DEPARTMENT_PERM, parks)

    department_set_head(department=parks, head=second, by=city.itsa)

    assert _fresh(second).has_perm(DEPARTMENT_PERM, parks)
    assert not _fresh(first).has_perm(DEPARTMENT_PERM, parks)


def test_a_former_head_still_on_the_list_keeps_the_department_permission(city):
    """S3.3: the list, not the title, decides once the person no longer heads the department."""
    department_set_head(department=city.police, head=city.analyst, by=city.itsa)

    assert _fresh(city.analyst).has_perm(DEPARTMENT_PERM, city.police)
    assert _fresh(city.head).has_perm(DEPARTMENT_PERM, city.police)


def test_only_itsa_sets_a_department_head(city):
    """S3.3"""
    with pytest.raises(NotAllowed):
        department_set_head(department=city.police, head=city.analyst, by=city.head)

    city.police.refresh_from_db()
    assert city.police.head == city.head


def test_ending_an_entry_today_takes_the_person_off_the_list_at_once(city):
    """S3.3: the end date is the first day off the list."""
    from accounts.models import AuthorizedRequester
    from accounts.services import authorized_requester_end, is_authorized_requester

    entry = AuthorizedRequester.objects.get(department=city.police, person=city.requester)
    authorized_requester_end(entry=entry, by=city.itsa)
    assert not is_authorized_requester(person=city.requester, department=city.police)
    assert not city.requester.has_perm("accounts.act_for_department", city.police)


def test_the_nightly_task_gives_and_takes_the_permission_as_the_dates_pass(city):
    """S3.3: an entry that starts tomorrow gives the permission tomorrow night, not today."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import User
    from accounts.services import authorized_requester_add
    from accounts.tasks import sync_department_permissions

    today = timezone.localdate()
    authorized_requester_add(department=city.police, person=city.analyst, by=city.itsa,
                             start_date=today + timedelta(days=1), end_date=today + timedelta(days=2))
    assert not User.objects.get(pk=city.analyst.pk).has_perm("accounts.act_for_department", city.police)

    from unittest import mock

    with mock.patch("django.utils.timezone.localdate", return_value=today + timedelta(days=1)):
        sync_department_permissions.delay()
    assert User.objects.get(pk=city.analyst.pk).has_perm("accounts.act_for_department", city.police)

    with mock.patch("django.utils.timezone.localdate", return_value=today + timedelta(days=2)):
        sync_department_permissions.delay()
    assert not User.objects.get(pk=city.analyst.pk).has_perm("accounts.act_for_department", city.police)
