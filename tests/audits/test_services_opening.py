"""Opening annual validations (S3.4e): only departments with live grants, one item for every live
grant, and never two validations for one department, however often or however badly the
schedule runs."""

from datetime import date

import pytest
from conftest import provisioned
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

import audits.services
from accounts.models import Grant
from audits.models import Validation, ValidationItem
from audits.services import open_due_validations
from portal.models import AuditEvent

TODAY = date(2026, 6, 10)


def _grant(city, person, system, *, department=None, role=Grant.Role.END_USER, status=Grant.Status.ACTIVE):
    return Grant.objects.create(
        person=person, system=system, department=department or city.police, role=role, status=status,
        account_name=f"{person.email}-{system.code}-{role}", provisioned_at=timezone.now(), provisioned_by=city.itsa,
    )


@pytest.fixture
def police_grants(city):
    """The officer and the analyst use the VMS; the officer also the plate readers; the analyst's
    plate-reader access is suspended (still live); an old traffic account was removed."""
    return {
        "officer_vms": provisioned(city).grant,
        "analyst_vms": provisioned(city, person=city.analyst).grant,
        "officer_lpr": _grant(city, city.officer, city.lpr),
        "analyst_lpr": _grant(city, city.analyst, city.lpr, status=Grant.Status.SUSPENDED),
        "removed": _grant(city, city.officer, city.traffic, status=Grant.Status.REMOVED),
    }


def _live(grants):
    return {g for g in grants.values() if g.is_live}


def test_only_departments_with_live_grants_are_opened(city, police_grants):
    """S3.4e: the Streets Department has only a removed grant, so nobody to validate."""
    _grant(city, city.streets_worker, city.traffic, department=city.streets, status=Grant.Status.REMOVED)

    opened = open_due_validations(today=TODAY)

    assert [v.department for v in opened] == [city.police]
    assert not Validation.objects.filter(department=city.streets).exists()


def test_every_department_with_live_grants_is_opened_in_one_run(city, police_grants):
    """S3.4e"""
    streets = _grant(city, city.streets_worker, city.traffic, department=city.streets)

    opened = open_due_validations(today=TODAY)

    assert sorted(v.department.name for v in opened) == [city.police.name, city.streets.name]
    streets_validation = Validation.objects.get(department=city.streets)
    assert [item.grant for item in streets_validation.items.all()] == [streets]


def test_the_items_are_every_live_grant_of_the_department_one_each_and_none_for_removed_grants(city, police_grants):
    """S3.4e: the head validates all end users, suspended ones included."""
    [validation] = open_due_validations(today=TODAY)

    items = list(validation.items.select_related("grant"))
    assert validation.kind == Validation.Kind.ANNUAL and validation.status == Validation.Status.OPEN
    assert {item.grant for item in items} == _live(police_grants)
    assert len(items) == len(_live(police_grants)) == 4
    assert all(item.decision == ValidationItem.Decision.PENDING for item in items)
    assert police_grants["removed"] not in {item.grant for item in items}


def test_opening_a_validation_tells_the_head_and_records_it(city, police_grants, django_capture_on_commit_callbacks):
    """S3.4e S3.4f"""
    with django_capture_on_commit_callbacks(execute=True):
        [validation] = open_due_validations(today=TODAY)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [city.head.email]
    assert mail.outbox[0].subject == "Annual validation open: Police Department, due July 10, 2026"
    assert AuditEvent.objects.filter(action="validation.open", target=str(validation), outcome="success").count() == 1


def test_a_second_run_the_same_day_opens_nothing_and_doubles_nothing(city, police_grants,
                                                                    django_capture_on_commit_callbacks):
    """S3.4e: a retried task."""
    with django_capture_on_commit_callbacks(execute=True):
        open_due_validations(today=TODAY)
        second = open_due_validations(today=TODAY)

    assert second == []
    assert Validation.objects.count() == 1
    assert ValidationItem.objects.count() == 4
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.filter(action="validation.open").count() == 1


def test_runs_on_the_following_days_never_open_a_second_validation_while_one_is_open(city, police_grants):
    """S3.4e: two beats, a day apart, while the first validation is still open."""
    open_due_validations(today=TODAY)

    for day in (date(2026, 6, 11), date(2026, 7, 10), date(2026, 12, 31)):
        assert open_due_validations(today=day) == []

    assert Validation.objects.count() == 1
    assert ValidationItem.objects.count() == 4


def test_the_database_refuses_a_second_open_annual_validation_for_a_department(city, police_grants):
    """S3.4e: enforced by the database, not only by a check."""
    [validation] = open_due_validations(today=TODAY)

    with pytest.raises(IntegrityError), transaction.atomic():
        Validation.objects.create(kind=Validation.Kind.ANNUAL, department=city.police, period=date(2026, 6, 11),
                                  due_date=date(2026, 7, 11))

    assert Validation.objects.filter(department=city.police).count() == 1


def test_the_database_refuses_a_second_annual_validation_for_the_same_period(city, police_grants):
    """S3.4e: even once the first is complete, one period has one annual validation."""
    [validation] = open_due_validations(today=TODAY)
    Validation.objects.filter(pk=validation.pk).update(status=Validation.Status.COMPLETE, completed_at=timezone.now())

    with pytest.raises(IntegrityError), transaction.atomic():
        Validation.objects.create(kind=Validation.Kind.ANNUAL, department=city.police, period=TODAY,
                                  due_date=date(2026, 7, 10))


def test_the_database_refuses_two_items_for_one_grant_in_one_validation(city, police_grants):
    """S3.4e"""
    [validation] = open_due_validations(today=TODAY)

    with pytest.raises(IntegrityError), transaction.atomic():
        ValidationItem.objects.create(validation=validation, grant=police_grants["officer_vms"])


def test_a_run_stopped_after_creating_the_validation_is_finished_by_the_next_with_no_item_doubled(city,
                                                                                                  police_grants):
    """S3.4e: a worker killed in the middle of writing the items."""
    [validation] = open_due_validations(today=TODAY)
    ValidationItem.objects.filter(validation=validation, grant__in=[police_grants["officer_vms"],
                                                                   police_grants["analyst_lpr"]]).delete()
    assert validation.items.count() == 2

    assert open_due_validations(today=TODAY) == []

    items = ValidationItem.objects.filter(validation=validation)
    assert {item.grant for item in items} == _live(police_grants)
    assert items.count() == 4
    assert Validation.objects.count() == 1


def test_a_run_stopped_before_writing_any_item_is_finished_by_the_next(city, police_grants):
    """S3.4e"""
    validation = Validation.objects.create(kind=Validation.Kind.ANNUAL, department=city.police, period=TODAY,
                                           due_date=date(2026, 7, 10))

    open_due_validations(today=date(2026, 6, 11))

    assert {item.grant for item in validation.items.all()} == _live(police_grants)
    assert validation.items.count() == 4
    assert Validation.objects.count() == 1


def test_a_run_that_dies_at_the_second_department_keeps_the_first_and_the_next_run_opens_the_second(
    city, police_grants, monkeypatch
):
    """S3.4e: each department is opened in its own transaction."""
    streets = _grant(city, city.streets_worker, city.traffic, department=city.streets)
    fill = audits.services._fill_items

    def dies_at_streets(validation):
        if validation.department_id == city.streets.pk:
            raise SystemExit("worker killed")
        return fill(validation)

    monkeypatch.setattr(audits.services, "_fill_items", dies_at_streets)
    with pytest.raises(SystemExit):
        open_due_validations(today=TODAY)
    assert list(Validation.objects.values_list("department", flat=True)) == [city.police.pk]
    assert ValidationItem.objects.count() == 4

    monkeypatch.setattr(audits.services, "_fill_items", fill)
    opened = open_due_validations(today=TODAY)

    assert [v.department for v in opened] == [city.streets]
    assert [item.grant for item in Validation.objects.get(department=city.streets).items.all()] == [streets]
    assert Validation.objects.count() == 2
    assert ValidationItem.objects.count() == 5


def test_a_grant_provisioned_while_the_validation_is_open_is_added_by_the_next_run(city, police_grants):
    """S3.4e: the head validates all end users, including one added during the review."""
    [validation] = open_due_validations(today=TODAY)
    newcomer = _grant(city, city.requester, city.vms)

    open_due_validations(today=date(2026, 6, 11))

    assert validation.items.filter(grant=newcomer).count() == 1
    assert validation.items.count() == 5
