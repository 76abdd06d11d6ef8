"""Two runs of the schedule at the same moment, on PostgreSQL (S3.4e): two beats, or a beat and a
retried task, never open two validations for one department nor write an item twice; two orders
of one user audit open one (S3.5d).

Each thread has its own database connection and its own transactions, as two workers would; a
barrier releases them together.
"""

import threading
from datetime import date

import pytest
from conftest import provisioned
from django.core import mail
from django.db import connection
from django.utils import timezone
from services import require_postgres

from accounts.models import Grant
from audits.models import Validation, ValidationItem
from audits.services import open_due_validations, user_audit_open
from portal.models import AuditEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TODAY = date(2026, 6, 10)


@pytest.fixture
def live_grants(city):
    """Grants in both departments, so each run has more than one department to open."""
    def grant(person, system, department):
        return Grant.objects.create(person=person, system=system, department=department, role=Grant.Role.END_USER,
                                    account_name=f"{person.email}-{system.code}", provisioned_at=timezone.now(),
                                    provisioned_by=city.itsa)

    return {
        provisioned(city).grant,
        provisioned(city, person=city.analyst).grant,
        grant(city.officer, city.lpr, city.police),
        grant(city.streets_worker, city.traffic, city.streets),
        grant(city.outsider, city.traffic, city.streets),
    }


def _at_once(*calls):
    """Run each call in its own thread and connection, released together; return results or errors."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = call()
        except Exception as error:  # the outcome under test, kept for the assertions
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a thread is still waiting for a lock"
    return outcomes


def _assert_one_validation_per_department_with_every_grant_once(city, live_grants):
    for department in (city.police, city.streets):
        validation = Validation.objects.get(department=department, kind=Validation.Kind.ANNUAL)
        expected = {g for g in live_grants if g.department_id == department.pk}
        grants = list(ValidationItem.objects.filter(validation=validation).values_list("grant", flat=True))
        assert sorted(grants) == sorted(g.pk for g in expected)
    assert Validation.objects.count() == 2
    assert ValidationItem.objects.count() == len(live_grants)


def test_two_runs_at_the_same_moment_open_one_validation_per_department(city, live_grants):
    """S3.4e"""
    require_postgres()

    outcomes = _at_once(
        lambda: open_due_validations(today=TODAY),
        lambda: open_due_validations(today=TODAY),
    )

    assert not any(isinstance(o, Exception) for o in outcomes), outcomes
    opened = [v.department_id for run in outcomes for v in run]
    assert sorted(opened) == sorted([city.police.pk, city.streets.pk])
    _assert_one_validation_per_department_with_every_grant_once(city, live_grants)
    assert AuditEvent.objects.filter(action="validation.open").count() == 2
    assert sorted(m.to[0] for m in mail.outbox if m.subject.startswith("Annual validation open")) == sorted(
        [city.head.email, city.outsider.email])


def test_three_runs_at_the_same_moment_still_open_one_validation_per_department(city, live_grants):
    """S3.4e: two beats and a retried task."""
    require_postgres()

    outcomes = _at_once(*[lambda: open_due_validations(today=TODAY)] * 3)

    assert not any(isinstance(o, Exception) for o in outcomes), outcomes
    _assert_one_validation_per_department_with_every_grant_once(city, live_grants)


def test_two_runs_finishing_a_stopped_run_at_the_same_moment_write_each_missing_item_once(city, live_grants):
    """S3.4e: a worker was killed halfway; the beat and the retried task both pick it up."""
    require_postgres()
    open_due_validations(today=TODAY)
    police = Validation.objects.get(department=city.police)
    ValidationItem.objects.filter(validation=police).delete()
    ValidationItem.objects.filter(validation__department=city.streets)[:1].get().delete()

    outcomes = _at_once(
        lambda: open_due_validations(today=TODAY),
        lambda: open_due_validations(today=TODAY),
    )

    assert not any(isinstance(o, Exception) for o in outcomes), outcomes
    assert outcomes == [[], []]
    _assert_one_validation_per_department_with_every_grant_once(city, live_grants)


def test_two_itsa_administrators_ordering_the_same_user_audit_at_once_open_one(city, live_grants):
    """S3.5d: a double-submitted order."""
    require_postgres()

    outcomes = _at_once(
        lambda: user_audit_open(by=city.itsa, department=city.police),
        lambda: user_audit_open(by=city.itsa2, department=city.police),
    )

    assert all(isinstance(o, Validation) for o in outcomes), outcomes
    assert outcomes[0].pk == outcomes[1].pk
    audit = Validation.objects.get(kind=Validation.Kind.USER_AUDIT)
    assert audit.items.count() == len([g for g in live_grants if g.department_id == city.police.pk])
