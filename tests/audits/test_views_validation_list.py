"""The validations dashboard: open validations and user audits with their progress, what is overdue,
when each department was last validated and when it is next due (S3.4e, S3.5d)."""

from datetime import timedelta

import pytest
from conftest import open_validation, provisioned
from django.urls import reverse
from django.utils import timezone

from accounts.models import Department, Grant, SurveillanceSystem, User
from audits.models import Validation, ValidationItem
from audits.services import next_due_on, user_audit_open, validation_item_decide
from portal.models import AuditEvent


def _dashboard(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("audits:list"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_head_sees_the_open_validation_of_their_department_with_its_progress_and_due_date(city, client):
    """S3.4e"""
    validation = open_validation(city)
    item = validation.items.first()
    validation_item_decide(item=item, decision="keep", by=city.head)

    page = _dashboard(client, city.head)

    assert validation.get_absolute_url() in page
    assert "1 of 2 decided" in page
    assert validation.due_date.strftime("%Y-%m-%d") in page
    assert "Overdue" not in page


def test_an_overdue_validation_is_tagged_overdue(city, client):
    validation = open_validation(city)
    Validation.objects.filter(pk=validation.pk).update(due_date=timezone.localdate() - timedelta(days=1))

    page = _dashboard(client, city.head)

    assert "Overdue" in page


def test_the_dashboard_shows_when_the_department_was_last_validated_and_when_it_is_next_due(city, client):
    """S3.4e: validated at least once a year."""
    validation = open_validation(city)
    completed_at = timezone.now() - timedelta(days=100)
    Validation.objects.filter(pk=validation.pk).update(status=Validation.Status.COMPLETE, completed_at=completed_at)
    last = timezone.localtime(completed_at).date()

    page = _dashboard(client, city.head)

    assert last.strftime("%Y-%m-%d") in page
    assert next_due_on(last_completed=last, today=timezone.localdate()).strftime("%Y-%m-%d") in page
    open_section, completed_section = page.split('id="completed-heading"')
    assert validation.get_absolute_url() not in open_section  # complete: no longer open
    assert validation.get_absolute_url() in completed_section.split('id="schedule-heading"')[0]
    assert reverse("audits:attestation", args=[validation.pk]) in completed_section


def test_another_departments_completed_validation_is_not_listed(city, client):
    """S3.4e"""
    validation = open_validation(city)
    Validation.objects.filter(pk=validation.pk).update(status=Validation.Status.COMPLETE, completed_at=timezone.now())

    page = _dashboard(client, city.outsider)

    assert validation.get_absolute_url() not in page
    assert "No validation or user audit has been completed yet." in page


def test_a_department_never_validated_is_due_now(city, client):
    provisioned(city)

    page = _dashboard(client, city.head)

    assert "Due now (never validated)" in page


def test_a_department_with_an_open_annual_validation_shows_its_due_date_as_next_due(city, client):
    validation = open_validation(city)

    page = _dashboard(client, city.head)

    assert "Open now, due" in page and validation.due_date.strftime("%Y-%m-%d") in page


def test_a_head_does_not_see_another_departments_validation(city, client):
    """S3.4c: a head sees only their own department."""
    validation = open_validation(city)

    page = _dashboard(client, city.outsider)

    assert validation.get_absolute_url() not in page
    assert "Police Department" not in page
    assert "Streets Department" in page


@pytest.mark.parametrize("who", ["itsa", "designee"])
def test_itsa_and_the_designee_see_every_department_with_overdue_validations_first(city, client, who):
    """S3.5d"""
    police = open_validation(city)
    Grant.objects.create(person=city.streets_worker, system=city.traffic, department=city.streets, role="end_user",
                         account_name="wworker", provisioned_at=timezone.now(), provisioned_by=city.itsa)
    streets = user_audit_open(by=city.itsa, department=city.streets)
    Validation.objects.filter(pk=streets.pk).update(due_date=timezone.localdate() - timedelta(days=3))

    page = _dashboard(client, getattr(city, who))

    assert page.index(streets.get_absolute_url()) < page.index(police.get_absolute_url())
    assert "Overdue" in page
    assert "Police Department" in page and "Streets Department" in page


def test_the_authorized_requester_sees_their_departments_validations(city, client):
    validation = open_validation(city)

    page = _dashboard(client, city.requester)

    assert validation.get_absolute_url() in page


def test_the_dashboard_searches_by_department(city, client):
    open_validation(city)

    page = _dashboard(client, city.itsa, q="streets")

    assert "Streets Department" in page and "Police Department" not in page


def test_only_itsa_is_offered_to_order_a_user_audit(city, client):
    """S3.5d"""
    assert reverse("audits:user_audit_new") in _dashboard(client, city.itsa)
    assert reverse("audits:user_audit_new") not in _dashboard(client, city.head)


def test_someone_without_a_role_gets_404_and_the_attempt_is_logged(city, client):
    client.force_login(city.officer)

    assert client.get(reverse("audits:list")).status_code == 404
    assert AuditEvent.objects.filter(actor=city.officer, action="validation_list.view", outcome="denied").exists()


def test_the_navigation_links_the_dashboard_for_heads_itsa_and_the_designee(city, client):
    for who in ("head", "itsa", "designee"):
        client.force_login(getattr(city, who))
        assert f'href="{reverse("audits:list")}"' in client.get(reverse("home")).content.decode()
    client.force_login(city.officer)
    assert f'href="{reverse("audits:list")}"' not in client.get(reverse("home")).content.decode()


def _departments_with_validations(city, count):
    """Departments with a completed and an open validation of three items each, written straight to the
    database: only the dashboard is under test."""
    now = timezone.now()
    today = timezone.localdate()
    departments = Department.objects.bulk_create(
        Department(name=f"Board {i:03d}", code=f"board-{i:03d}", kind="board") for i in range(count)
    )
    people = User.objects.bulk_create(
        User(email=f"member{i}@board{d.pk}.example", full_name=f"Member {i}", department=d)
        for d in departments for i in range(3)
    )
    system = SurveillanceSystem.objects.create(name="Board VMS", code="board-vms")
    grants = Grant.objects.bulk_create(
        Grant(person=p, system=system, department_id=p.department_id, role="end_user", account_name=p.email,
              provisioned_at=now, provisioned_by=city.itsa)
        for p in people
    )
    Validation.objects.bulk_create(
        Validation(kind="annual", department=d, period=today - timedelta(days=400),
                   due_date=today - timedelta(days=370), status=Validation.Status.COMPLETE,
                   completed_at=now - timedelta(days=360))
        for d in departments
    )
    open_ones = Validation.objects.bulk_create(
        Validation(kind="annual", department=d, period=today, due_date=today + timedelta(days=i % 3 - 1))
        for i, d in enumerate(departments)
    )
    by_department = {v.department_id: v for v in open_ones}
    ValidationItem.objects.bulk_create(
        ValidationItem(validation=by_department[g.department_id], grant=g,
                       decision="keep" if g.pk % 2 else "pending")
        for g in grants
    )


@pytest.mark.parametrize("rows", [10, 40])
def test_the_dashboard_runs_the_same_number_of_queries_whatever_the_number_of_departments(
    city, client, settings, django_assert_max_num_queries, rows
):
    settings.PAGE_SIZE = 100
    _departments_with_validations(city, rows)
    client.force_login(city.itsa)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("audits:list"))

    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("Annual validation of Board") == 2 * rows  # open ones, then completed ones
    assert "of 3 decided" in page
