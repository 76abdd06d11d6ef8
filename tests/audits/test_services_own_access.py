"""Nobody decides their own access in a validation (S3.4f with S3.4c): the head's own grant is
decided by the Mayor's designee, as the designee approves a head's request for their own access."""

from datetime import date

import pytest
from conftest import PASSWORD, file_request, provisioned
from django.urls import reverse

from audits.models import ValidationItem
from audits.services import (
    open_due_validations,
    validation_item_decide,
    validation_keep_all,
    validation_sign_off,
)
from portal.errors import NotAllowed, RuleViolation
from portal.models import AuditEvent
from access_requests.services import access_request_approve, access_request_provision

Decision = ValidationItem.Decision


@pytest.fixture
def validation(city):
    """The police's validation: the officer's VMS access and the head's own."""
    provisioned(city)
    own = file_request(city, person=city.head, by=city.head)
    own = access_request_approve(request=own, by=city.designee)
    access_request_provision(request=own, by=city.itsa, account_name="hhead")
    [validation] = open_due_validations(today=date(2026, 6, 10))
    return validation


def _item(validation, person):
    return validation.items.select_related("grant", "validation__department").get(grant__person=person)


def test_the_head_cannot_decide_their_own_access(city, validation):
    """S3.4f"""
    with pytest.raises(NotAllowed, match="own access"):
        validation_item_decide(item=_item(validation, city.head), decision=Decision.KEEP, by=city.head)

    assert _item(validation, city.head).decision == Decision.PENDING
    assert AuditEvent.objects.filter(action="validation.decide", outcome="denied", actor=city.head).exists()


def test_the_designee_decides_the_heads_own_access_and_a_revocation_is_approved_in_their_name(city, validation):
    """S3.4f S3.5c"""
    item = validation_item_decide(item=_item(validation, city.head), decision=Decision.REVOKE,
                                  reason="No longer patrols.", by=city.designee)

    assert (item.decision, item.decided_by) == (Decision.REVOKE, city.designee)
    assert item.follow_up.approved_by == city.designee
    assert item.follow_up.approved_by != item.grant.person


def test_the_designee_decides_only_the_heads_own_access(city, validation):
    with pytest.raises(NotAllowed):
        validation_item_decide(item=_item(validation, city.officer), decision=Decision.KEEP, by=city.designee)


def test_keep_all_leaves_the_heads_own_access_for_the_designee(city, validation):
    kept = validation_keep_all(validation=validation, by=city.head, confirmed=True).kept

    assert kept == 1
    assert _item(validation, city.officer).decision == Decision.KEEP
    assert _item(validation, city.head).decision == Decision.PENDING


def test_the_head_signs_off_once_the_designee_has_decided_their_own_access(city, validation):
    validation_keep_all(validation=validation, by=city.head, confirmed=True)
    with pytest.raises(RuleViolation, match="designee"):
        validation_sign_off(validation=validation, by=city.head, password=PASSWORD)

    validation_item_decide(item=_item(validation, city.head), decision=Decision.KEEP, by=city.designee)
    signed = validation_sign_off(validation=validation, by=city.head, password=PASSWORD)

    assert signed.signed_off_by == city.head


def test_the_page_offers_the_designee_a_decision_on_the_heads_own_access_only(city, validation, client):
    client.force_login(city.designee)

    page = client.get(reverse("audits:validation", args=[validation.pk])).content.decode()

    head_item, officer_item = _item(validation, city.head), _item(validation, city.officer)
    assert reverse("audits:decide", args=[validation.pk, head_item.pk]) in page
    assert reverse("audits:decide", args=[validation.pk, officer_item.pk]) not in page


def test_the_page_tells_the_head_who_decides_their_own_access(city, validation, client):
    client.force_login(city.head)

    page = client.get(reverse("audits:validation", args=[validation.pk])).content.decode()

    assert reverse("audits:decide", args=[validation.pk, _item(validation, city.head).pk]) not in page
    assert reverse("audits:decide", args=[validation.pk, _item(validation, city.officer).pk]) in page
    assert "Decided by the Mayor&#x27;s designee" in page or "Decided by the Mayor's designee" in page
