"""User audits (S3.5d): ITSA orders one at any time, of a department or of one system in it, and
nobody is warned before it opens."""

from datetime import timedelta

import pytest
from conftest import PASSWORD, provisioned
from django.conf import settings
from django.core import mail
from django.utils import timezone

from accounts.models import Grant
from audits.models import Validation, ValidationItem
from audits.services import (
    open_due_validations,
    user_audit_open,
    validation_item_decide,
    validation_keep_all,
    validation_sign_off,
)
from portal.errors import NotAllowed
from portal.models import AuditEvent


@pytest.fixture
def police_grants(city):
    """End users of the VMS and of the plate readers, an administrator of the plate readers, and a
    removed account."""
    def grant(person, system, role=Grant.Role.END_USER, status=Grant.Status.ACTIVE):
        return Grant.objects.create(person=person, system=system, department=city.police, role=role, status=status,
                                    account_name=f"{person.email}-{system.code}-{role}",
                                    provisioned_at=timezone.now(), provisioned_by=city.itsa)

    return {
        "officer_vms": provisioned(city).grant,
        "analyst_vms": provisioned(city, person=city.analyst).grant,
        "officer_lpr": grant(city.officer, city.lpr),
        "requester_lpr": grant(city.requester, city.lpr, role=Grant.Role.ADMINISTRATOR),
        "removed": grant(city.analyst, city.lpr, status=Grant.Status.REMOVED),
    }


def test_itsa_orders_a_user_audit_of_a_department_and_nobody_is_warned(city, police_grants,
                                                                      django_capture_on_commit_callbacks):
    """S3.5d: without notice."""
    with django_capture_on_commit_callbacks(execute=True):
        audit = user_audit_open(by=city.itsa, department=city.police)

    assert mail.outbox == []
    assert audit.kind == Validation.Kind.USER_AUDIT and audit.status == Validation.Status.OPEN
    assert audit.department == city.police and audit.system is None and audit.opened_by == city.itsa
    assert audit.due_date == timezone.localdate() + timedelta(days=settings.VALIDATION_DUE_DAYS)
    live = {g for g in police_grants.values() if g.is_live}
    assert {item.grant for item in audit.items.all()} == live
    assert audit.items.count() == len(live) == 4
    assert AuditEvent.objects.filter(actor=city.itsa, action="user_audit.open", outcome="success").count() == 1


def test_a_user_audit_of_one_system_lists_only_that_systems_grants(city, police_grants,
                                                                  django_capture_on_commit_callbacks):
    """S3.5d"""
    with django_capture_on_commit_callbacks(execute=True):
        audit = user_audit_open(by=city.itsa, department=city.police, system=city.lpr)

    assert mail.outbox == []
    assert audit.system == city.lpr
    assert {item.grant for item in audit.items.all()} == {police_grants["officer_lpr"], police_grants["requester_lpr"]}
    assert not audit.items.filter(grant__system=city.vms).exists()


@pytest.mark.parametrize("who", ["head", "requester", "designee", "outsider", "officer"])
def test_only_itsa_orders_a_user_audit(city, police_grants, who):
    """S3.5d"""
    actor = getattr(city, who)

    with pytest.raises(NotAllowed):
        user_audit_open(by=actor, department=city.police)

    assert not Validation.objects.exists()
    assert AuditEvent.objects.filter(actor=actor, action="user_audit.open", outcome="denied").exists()


def test_itsa_may_order_a_user_audit_while_the_annual_validation_is_open(city, police_grants):
    """S3.5d: at any time."""
    open_due_validations(today=timezone.localdate())

    audit = user_audit_open(by=city.itsa, department=city.police)
    again = user_audit_open(by=city.itsa2, department=city.police, system=city.vms)

    assert Validation.objects.filter(department=city.police).count() == 3
    assert audit.items.count() == 4 and again.items.count() == 2


def test_a_user_audit_follows_the_same_flow_as_a_validation(city, police_grants):
    """S3.5d S3.4f: the head decides each item and signs off."""
    audit = user_audit_open(by=city.itsa, department=city.police, system=city.vms)
    item = audit.items.get(grant=police_grants["analyst_vms"])

    validation_item_decide(item=item, decision=ValidationItem.Decision.REVOKE, reason="Moved to dispatch.",
                           by=city.head)
    assert validation_keep_all(validation=audit, by=city.head, confirmed=True).kept == 1
    audit = validation_sign_off(validation=audit, by=city.head, password=PASSWORD)

    assert audit.status == Validation.Status.SIGNED_OFF
    assert "user audit" in audit.sign_off_statement


def test_ordering_the_same_user_audit_twice_opens_one(city, police_grants):
    """S3.5d: a double-submitted order; the second finds the audit the first opened."""
    first = user_audit_open(by=city.itsa, department=city.police, system=city.lpr)
    second = user_audit_open(by=city.itsa2, department=city.police, system=city.lpr)

    assert second == first
    assert Validation.objects.filter(kind=Validation.Kind.USER_AUDIT).count() == 1
    assert ValidationItem.objects.count() == 2
    assert AuditEvent.objects.filter(action="user_audit.open", outcome="success").count() == 1


def test_a_new_user_audit_may_be_ordered_once_the_last_one_is_signed_off(city, police_grants):
    """S3.5d: at any time, again and again."""
    first = user_audit_open(by=city.itsa, department=city.police)
    validation_keep_all(validation=first, by=city.head, confirmed=True)
    validation_sign_off(validation=first, by=city.head, password=PASSWORD)

    second = user_audit_open(by=city.itsa, department=city.police)

    assert second != first and second.status == Validation.Status.OPEN
    assert second.items.count() == 4


def test_itsa_audits_one_system_across_departments_one_audit_per_department_using_it(city):
    """S3.5d: a user audit of one system across departments, each department's head deciding its own."""
    from conftest import provisioned
    from django.core import mail

    from audits.models import Validation
    from audits.services import user_audit_open_for_system
    from access_requests.services import access_request_provision, access_request_submit

    provisioned(city)  # police officer on the VMS
    streets_request = access_request_submit(
        department=city.streets, person=city.streets_worker, system=city.traffic, action="add", role="end_user",
        permissible_uses=[city.traffic_monitoring], justification="Signal timing.", by=city.outsider,
    )
    access_request_provision(request=streets_request, by=city.itsa, account_name="wworker")

    audits = user_audit_open_for_system(by=city.itsa, system=city.vms)

    assert [audit.department for audit in audits] == [city.police]
    assert all(audit.kind == Validation.Kind.USER_AUDIT and audit.system == city.vms for audit in audits)
    assert user_audit_open_for_system(by=city.itsa, system=city.vms) == audits
    assert mail.outbox == []


def test_only_itsa_audits_a_system_across_departments(city):
    """S3.5d"""
    import pytest

    from audits.services import user_audit_open_for_system
    from portal.errors import NotAllowed

    with pytest.raises(NotAllowed):
        user_audit_open_for_system(by=city.head, system=city.vms)
