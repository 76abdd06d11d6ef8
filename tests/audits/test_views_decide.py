"""The head decides one item of a validation: keep, revoke with a reason, or change the role (S3.4e)."""

import pytest
from conftest import messages_of, open_validation
from django.urls import reverse
from django.utils import timezone

from accounts.models import Grant
from audits.models import ValidationItem
from audits.services import user_audit_open
from portal.models import AuditEvent
from access_requests.models import AccessRequest


def _officer_item(validation, city):
    return validation.items.get(grant__person=city.officer)


def _decide(client, item, **data):
    return client.post(reverse("audits:decide", args=[item.validation_id, item.pk]), data)


def test_the_head_keeps_an_item(city, client):
    """S3.4e"""
    validation = open_validation(city)
    item = _officer_item(validation, city)
    client.force_login(city.head)

    response = _decide(client, item, decision="keep")

    assert response.status_code == 302 and response.url == validation.get_absolute_url()
    item.refresh_from_db()
    assert (item.decision, item.decided_by) == (ValidationItem.Decision.KEEP, city.head)
    assert item.follow_up is None
    assert messages_of(response)[-1][0] == "success"


def test_a_revocation_with_a_reason_sends_a_removal_request_to_itsa(city, client):
    """S3.4e S3.5a: revocations go to the ITSA queue as removal work."""
    validation = open_validation(city)
    item = _officer_item(validation, city)
    client.force_login(city.head)

    response = _decide(client, item, decision="revoke", reason="Moved to the front desk.")

    item.refresh_from_db()
    assert item.decision == ValidationItem.Decision.REVOKE and item.reason == "Moved to the front desk."
    removal = item.follow_up
    assert (removal.action, removal.status, removal.grant) == (
        AccessRequest.Action.REMOVE, AccessRequest.Status.WITH_ITSA, item.grant)
    level, text = messages_of(response)[-1]
    assert level == "success" and removal.reference in text


def test_a_change_of_role_sends_a_change_request_to_itsa(city, client):
    validation = open_validation(city)
    item = _officer_item(validation, city)
    client.force_login(city.head)

    _decide(client, item, decision="change_role", new_role="auditor", reason="Now audits the VMS.")

    item.refresh_from_db()
    assert (item.decision, item.new_role) == (ValidationItem.Decision.CHANGE_ROLE, "auditor")
    assert (item.follow_up.action, item.follow_up.role, item.follow_up.status) == (
        AccessRequest.Action.CHANGE, "auditor", AccessRequest.Status.WITH_ITSA)


def test_decide_refuses_get(city, client):
    validation = open_validation(city)
    item = _officer_item(validation, city)
    client.force_login(city.head)

    assert client.get(reverse("audits:decide", args=[validation.pk, item.pk])).status_code == 405
    item.refresh_from_db()
    assert item.is_pending


def test_the_head_of_another_department_gets_404_and_nothing_changes(city, client):
    """S3.4c: a head decides only their own department's end users."""
    validation = open_validation(city)
    item = _officer_item(validation, city)
    client.force_login(city.outsider)

    assert _decide(client, item, decision="keep").status_code == 404
    item.refresh_from_db()
    assert item.is_pending
    assert AuditEvent.objects.filter(actor=city.outsider, action="validation.view", outcome="denied").exists()


def test_an_item_of_another_validation_answers_404(city, client):
    validation = open_validation(city)
    Grant.objects.create(person=city.streets_worker, system=city.traffic, department=city.streets, role="end_user",
                         account_name="wworker", provisioned_at=timezone.now(), provisioned_by=city.itsa)
    streets_item = user_audit_open(by=city.itsa, department=city.streets).items.get()
    client.force_login(city.head)

    response = client.post(reverse("audits:decide", args=[validation.pk, streets_item.pk]), {"decision": "keep"})

    assert response.status_code == 404
    streets_item.refresh_from_db()
    assert streets_item.is_pending


def test_a_second_revocation_has_no_second_effect(city, client):
    validation = open_validation(city)
    item = _officer_item(validation, city)
    client.force_login(city.head)
    _decide(client, item, decision="revoke", reason="Left the unit.")

    response = _decide(client, item, decision="revoke", reason="Left the unit.")

    assert response.status_code == 302
    assert AccessRequest.objects.filter(grant=item.grant, action=AccessRequest.Action.REMOVE).count() == 1
    assert AuditEvent.objects.filter(action="validation.revoke", outcome="success").count() == 1
    assert messages_of(response)[-1][0] == "info"


def test_a_decided_item_cannot_be_decided_again_another_way(city, client):
    validation = open_validation(city)
    item = _officer_item(validation, city)
    client.force_login(city.head)
    _decide(client, item, decision="keep")

    response = _decide(client, item, decision="revoke", reason="Changed my mind.")

    item.refresh_from_db()
    assert item.decision == ValidationItem.Decision.KEEP
    assert not AccessRequest.objects.filter(grant=item.grant, action=AccessRequest.Action.REMOVE).exists()
    level, text = messages_of(response)[-1]
    assert level == "error" and "already decided" in text


def test_a_revocation_without_a_reason_is_refused_with_a_message(city, client):
    validation = open_validation(city)
    item = _officer_item(validation, city)
    client.force_login(city.head)

    response = _decide(client, item, decision="revoke", reason="   ")

    item.refresh_from_db()
    assert item.is_pending
    level, text = messages_of(response)[-1]
    assert level == "error" and "why" in text


def test_a_change_of_role_to_the_same_role_is_refused_with_a_message(city, client):
    validation = open_validation(city)
    item = _officer_item(validation, city)
    client.force_login(city.head)

    response = _decide(client, item, decision="change_role", new_role="end_user")

    item.refresh_from_db()
    assert item.is_pending
    assert not AccessRequest.objects.filter(grant=item.grant, action=AccessRequest.Action.CHANGE).exists()
    level, text = messages_of(response)[-1]
    assert level == "error" and "new role" in text


@pytest.mark.parametrize("who", ["requester", "itsa", "designee"])
def test_only_the_head_decides_the_others_who_see_the_validation_are_refused(city, client, who):
    """S3.4e: the head validates."""
    validation = open_validation(city)
    item = _officer_item(validation, city)
    client.force_login(getattr(city, who))

    response = _decide(client, item, decision="keep")

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.is_pending
    level, text = messages_of(response)[-1]
    assert level == "error" and "Only the head of Police Department" in text


def test_an_unknown_decision_is_refused_with_a_message(city, client):
    validation = open_validation(city)
    item = _officer_item(validation, city)
    client.force_login(city.head)

    response = _decide(client, item, decision="delete")

    item.refresh_from_db()
    assert item.is_pending
    assert messages_of(response)[-1][0] == "error"
