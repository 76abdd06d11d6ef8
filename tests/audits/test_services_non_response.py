"""Non-response (S3.4e S3.4f): once the grace period after the due date has passed, undecided
end-user grants are suspended (a grant state change with history and an ITSA task, and the head is
told), or only flagged when the setting says so. Staff grants are never suspended by this."""

from datetime import date, timedelta

import pytest
from conftest import provisioned
from django.conf import settings
from django.core import mail
from django.utils import timezone

from accounts.models import Grant
from audits.models import ValidationItem
from audits.services import handle_non_response, open_due_validations, validation_item_decide
from portal.models import AuditEvent
from access_requests.models import AccessRequest
from access_requests.selectors import itsa_queue
from access_requests.services import access_request_provision

Decision = ValidationItem.Decision
DUE = date(2026, 5, 31)
SUBJECT = "Access suspended for no answer: Police Department"


@pytest.fixture
def grants(city):
    """End users of the VMS (the officer, the analyst) and an administrator of the plate readers (the
    requester)."""
    return {
        "officer": provisioned(city).grant,
        "analyst": provisioned(city, person=city.analyst).grant,
        "administrator": Grant.objects.create(
            person=city.requester, system=city.lpr, department=city.police, role=Grant.Role.ADMINISTRATOR,
            account_name="requester-admin", provisioned_at=timezone.now(), provisioned_by=city.itsa,
        ),
    }


@pytest.fixture
def validation(city, grants):
    [validation] = open_due_validations(today=DUE - timedelta(days=settings.VALIDATION_DUE_DAYS))
    assert validation.due_date == DUE
    return validation


@pytest.fixture
def handle(django_capture_on_commit_callbacks):
    def run(today):
        with django_capture_on_commit_callbacks(execute=True):
            return handle_non_response(today=today)
    return run


def _last_day_of_grace():
    return DUE + timedelta(days=settings.VALIDATION_GRACE_DAYS)


def _status(grant):
    grant.refresh_from_db()
    return grant.status


def test_nothing_is_suspended_until_the_grace_period_has_passed(city, grants, validation, handle):
    """S3.4f"""
    for day in (DUE, DUE + timedelta(days=1), _last_day_of_grace()):
        assert handle(day) == 0

    assert {_status(g) for g in grants.values()} == {Grant.Status.ACTIVE}
    assert not AccessRequest.objects.filter(action=AccessRequest.Action.SUSPEND).exists()
    assert mail.outbox == []


def test_after_the_grace_period_undecided_end_user_grants_are_suspended_with_history_and_an_itsa_task(
    city, grants, validation, handle
):
    """S3.4e S3.4f S3.5c"""
    handled = handle(_last_day_of_grace() + timedelta(days=1))

    assert handled == 2
    for key in ("officer", "analyst"):
        grant = grants[key]
        assert _status(grant) == Grant.Status.SUSPENDED
        assert grant.history.filter(status=Grant.Status.SUSPENDED).count() == 1
        item = validation.items.get(grant=grant)
        assert item.decision == Decision.SUSPENDED and item.decided_at is not None
        task = item.follow_up
        assert task.action == AccessRequest.Action.SUSPEND and task.status == AccessRequest.Status.WITH_ITSA
        assert task.grant == grant and task.role == grant.role
        assert task in itsa_queue(city.itsa)
    assert AuditEvent.objects.filter(action="validation.non_response_suspended", target=str(validation)).count() == 1


def test_the_head_is_told_of_the_suspension(city, grants, validation, handle):
    """S3.4f"""
    handle(_last_day_of_grace() + timedelta(days=1))

    [message] = [m for m in mail.outbox if m.subject == SUBJECT]
    assert message.to == [city.head.email]


def test_staff_grants_are_never_suspended_for_no_answer(city, grants, validation, handle):
    """S3.4f: suspending an administrator could stop the system; only end users are suspended."""
    handle(_last_day_of_grace() + timedelta(days=1))

    assert _status(grants["administrator"]) == Grant.Status.ACTIVE
    assert validation.items.get(grant=grants["administrator"]).decision == Decision.PENDING
    assert not AccessRequest.objects.filter(grant=grants["administrator"]).exists()


def test_only_staff_grants_undecided_means_nothing_to_suspend_and_no_mail(city, grants, validation, handle):
    """S3.4f"""
    for key in ("officer", "analyst"):
        validation_item_decide(item=validation.items.get(grant=grants[key]), decision=Decision.KEEP, by=city.head)

    assert handle(_last_day_of_grace() + timedelta(days=1)) == 0

    assert _status(grants["administrator"]) == Grant.Status.ACTIVE
    assert [m for m in mail.outbox if m.subject == SUBJECT] == []


def test_kept_and_revoked_items_are_not_suspended(city, grants, validation, handle):
    """S3.4f: only undecided items are."""
    validation_item_decide(item=validation.items.get(grant=grants["officer"]), decision=Decision.KEEP, by=city.head)

    assert handle(_last_day_of_grace() + timedelta(days=1)) == 1

    assert _status(grants["officer"]) == Grant.Status.ACTIVE
    assert _status(grants["analyst"]) == Grant.Status.SUSPENDED


def test_suspension_happens_once(city, grants, validation, handle):
    """S3.4f: the daily task runs again the next days."""
    handle(_last_day_of_grace() + timedelta(days=1))

    assert handle(_last_day_of_grace() + timedelta(days=2)) == 0
    assert handle(_last_day_of_grace() + timedelta(days=30)) == 0

    assert AccessRequest.objects.filter(action=AccessRequest.Action.SUSPEND).count() == 2
    assert len([m for m in mail.outbox if m.subject == SUBJECT]) == 1
    assert grants["officer"].history.filter(status=Grant.Status.SUSPENDED).count() == 1


def test_itsa_closes_the_suspension_task(city, grants, validation, handle):
    """S3.5b: the account is already suspended in the portal; ITSA carries it out on the system."""
    handle(_last_day_of_grace() + timedelta(days=1))
    task = validation.items.get(grant=grants["officer"]).follow_up

    done = access_request_provision(request=task, by=city.itsa)

    assert done.status == AccessRequest.Status.COMPLETED
    assert _status(grants["officer"]) == Grant.Status.SUSPENDED


def test_the_grace_period_is_a_setting(city, grants, validation, handle, settings):
    """S3.4f"""
    settings.VALIDATION_GRACE_DAYS = 3

    assert handle(DUE + timedelta(days=3)) == 0
    assert handle(DUE + timedelta(days=4)) == 2


def test_with_the_flag_setting_nothing_is_suspended_and_the_flag_is_recorded_once(city, grants, validation,
                                                                                 handle, settings):
    """S3.4f"""
    settings.VALIDATION_NON_RESPONSE = "flag"

    for days in (1, 2, 10):
        assert handle(_last_day_of_grace() + timedelta(days=days)) == 0

    assert {_status(g) for g in grants.values()} == {Grant.Status.ACTIVE}
    assert not validation.items.filter(decision=Decision.SUSPENDED).exists()
    assert not AccessRequest.objects.filter(action=AccessRequest.Action.SUSPEND).exists()
    flags = AuditEvent.objects.filter(action="validation.non_response_flagged", target=str(validation))
    assert flags.count() == 1
    assert "2" in flags.get().detail
    assert [m for m in mail.outbox if m.subject == SUBJECT] == []
