"""The head decides each item of a validation (S3.4f): keep, revoke with a reason (removal work for
ITSA, S3.5c) or change the role (a change request), one decision per item; a new head takes over;
a grant removed meanwhile closes its item."""

from datetime import date

import pytest
from conftest import provisioned
from django.utils import timezone

from accounts.models import Grant, SodFinding
from accounts.services import department_set_head
from accounts.sod import sod_conflict
from audits.models import Validation, ValidationItem
from audits.services import may_decide, open_due_validations, validation_item_decide, validation_keep_all
from portal.errors import NotAllowed, RuleViolation
from portal.models import AuditEvent
from access_requests.models import AccessRequest
from access_requests.selectors import itsa_queue
from access_requests.services import access_request_provision

Decision = ValidationItem.Decision


@pytest.fixture
def validation(city):
    """The police's annual validation with the officer's and the analyst's VMS access to review."""
    provisioned(city)
    provisioned(city, person=city.analyst)
    [validation] = open_due_validations(today=date(2026, 6, 10))
    return validation


def _item(validation, person):
    return validation.items.select_related("grant").get(grant__person=person)


def _decide(item, decision, *, by, **kwargs):
    return validation_item_decide(item=item, decision=decision, by=by, **kwargs)


@pytest.mark.parametrize("who", ["requester", "itsa", "outsider", "designee", "officer"])
def test_only_the_head_decides_an_item(city, validation, who):
    """S3.4f: a requester, ITSA, another department's head, the designee or the person themselves may not."""
    actor = getattr(city, who)
    item = _item(validation, city.officer)

    assert not may_decide(validation=validation, user=actor)
    with pytest.raises(NotAllowed):
        _decide(item, Decision.KEEP, by=actor)

    item.refresh_from_db()
    assert item.decision == Decision.PENDING and item.decided_by is None
    assert AuditEvent.objects.filter(actor=actor, action="validation.decide", outcome="denied").exists()


def test_the_head_keeps_an_access(city, validation):
    """S3.4f"""
    assert may_decide(validation=validation, user=city.head)

    item = _decide(_item(validation, city.officer), Decision.KEEP, by=city.head)

    item.refresh_from_db()
    assert item.decision == Decision.KEEP
    assert item.decided_by == city.head and item.decided_at is not None
    assert item.follow_up is None
    assert item.grant.status == Grant.Status.ACTIVE
    assert AuditEvent.objects.filter(actor=city.head, action="validation.keep", outcome="success").count() == 1


def test_an_unknown_decision_is_refused(city, validation):
    """S3.4f"""
    with pytest.raises(RuleViolation) as refusal:
        _decide(_item(validation, city.officer), "approve", by=city.head)

    assert refusal.value.field == "decision"
    assert _item(validation, city.officer).is_pending


def test_revoking_needs_a_reason(city, validation):
    """S3.4f S3.5c"""
    with pytest.raises(RuleViolation) as refusal:
        _decide(_item(validation, city.officer), Decision.REVOKE, by=city.head, reason="   ")

    assert refusal.value.field == "reason"
    assert _item(validation, city.officer).is_pending
    assert not AccessRequest.objects.filter(action=AccessRequest.Action.REMOVE).exists()


def test_revoking_sends_the_removal_to_the_itsa_queue_as_the_items_follow_up(city, validation):
    """S3.4f S3.5c: the revocation becomes removal work for ITSA, already approved by the head."""
    item = _item(validation, city.officer)

    _decide(item, Decision.REVOKE, by=city.head, reason="Transferred to the records unit.")

    item.refresh_from_db()
    removal = item.follow_up
    assert item.decision == Decision.REVOKE and item.reason == "Transferred to the records unit."
    assert removal.action == AccessRequest.Action.REMOVE and removal.status == AccessRequest.Status.WITH_ITSA
    assert removal.grant == item.grant and removal.person == city.officer and removal.system == city.vms
    assert removal.role == item.grant.role
    assert removal.requested_by == city.head and removal.approved_by == city.head
    assert "Transferred to the records unit." in removal.justification
    assert removal in itsa_queue(city.itsa)
    assert item.grant.status == Grant.Status.ACTIVE  # until ITSA removes the account


def test_revoking_the_same_item_twice_sends_one_removal(city, validation):
    """S3.4f: a double-submitted decision has one effect."""
    item = _item(validation, city.officer)

    first = _decide(item, Decision.REVOKE, by=city.head, reason="Left the unit.")
    second = _decide(item, Decision.REVOKE, by=city.head, reason="Left the unit.")

    assert first.follow_up_id == second.follow_up_id
    assert AccessRequest.objects.filter(grant=item.grant, action=AccessRequest.Action.REMOVE).count() == 1
    assert AuditEvent.objects.filter(action="validation.revoke", outcome="success").count() == 1


def test_changing_the_role_files_a_change_request(city, validation):
    """S3.4f S3.5c"""
    item = _item(validation, city.officer)

    _decide(item, Decision.CHANGE_ROLE, by=city.head, new_role=Grant.Role.MONITOR, reason="Now runs the desk.")

    item.refresh_from_db()
    change = item.follow_up
    assert item.decision == Decision.CHANGE_ROLE and item.new_role == Grant.Role.MONITOR
    assert change.action == AccessRequest.Action.CHANGE and change.role == Grant.Role.MONITOR
    assert change.status == AccessRequest.Status.WITH_ITSA and change.grant == item.grant
    assert change in itsa_queue(city.itsa)


def test_changing_the_role_twice_to_the_same_role_files_one_change_request(city, validation):
    """S3.4f: a double-submitted decision has one effect."""
    item = _item(validation, city.officer)

    first = _decide(item, Decision.CHANGE_ROLE, by=city.head, new_role=Grant.Role.MONITOR)
    second = _decide(item, Decision.CHANGE_ROLE, by=city.head, new_role=Grant.Role.MONITOR)

    assert first.follow_up_id == second.follow_up_id
    assert AccessRequest.objects.filter(grant=item.grant, action=AccessRequest.Action.CHANGE).count() == 1
    with pytest.raises(RuleViolation, match="already decided"):
        _decide(item, Decision.CHANGE_ROLE, by=city.head, new_role=Grant.Role.AUDITOR)


@pytest.mark.parametrize("new_role", ["", "superuser", Grant.Role.END_USER])
def test_changing_the_role_needs_a_different_valid_role(city, validation, new_role):
    """S3.4f"""
    item = _item(validation, city.officer)

    with pytest.raises(RuleViolation) as refusal:
        _decide(item, Decision.CHANGE_ROLE, by=city.head, new_role=new_role)

    assert refusal.value.field == "new_role"
    assert _item(validation, city.officer).is_pending
    assert not AccessRequest.objects.filter(action=AccessRequest.Action.CHANGE).exists()


def test_a_role_change_that_breaks_separation_of_duties_is_refused(city):
    """S3.2a S3.2b S3.4f: the officer administers and audits the plate readers; making the audit
    account an end-user account would leave them administrator and end user of one system."""
    def grant(role):
        return Grant.objects.create(person=city.officer, system=city.lpr, department=city.police, role=role,
                                    account_name=f"officer-{role}", provisioned_at=timezone.now(),
                                    provisioned_by=city.itsa)

    grant(Grant.Role.ADMINISTRATOR)
    auditor = grant(Grant.Role.AUDITOR)
    assert sod_conflict(person=city.officer, system=city.lpr, roles=[Grant.Role.END_USER],
                        ignore_grant_ids=[auditor.pk])
    [validation] = open_due_validations(today=date(2026, 6, 10))
    item = validation.items.get(grant=auditor)

    with pytest.raises(RuleViolation) as refusal:
        _decide(item, Decision.CHANGE_ROLE, by=city.head, new_role=Grant.Role.END_USER)

    assert "3.2" in refusal.value.message and refusal.value.field == "new_role"
    item.refresh_from_db()
    assert item.is_pending and item.follow_up is None
    assert not AccessRequest.objects.filter(action=AccessRequest.Action.CHANGE).exists()
    # Kept for the reports like a conflict refused at filing, approval or provisioning (S2.5b).
    finding = SodFinding.objects.get()
    assert (finding.person, finding.system, finding.department) == (city.officer, city.lpr, city.police)
    assert (finding.stage, finding.resolution) == (SodFinding.Stage.REVIEW, SodFinding.Resolution.PREVENTED)
    assert finding.detail == refusal.value.message
    assert AuditEvent.objects.filter(action="access_request.queue_for_itsa", outcome="refused",
                                     actor=city.head).count() == 1


def test_deciding_a_decided_item_differently_is_refused(city, validation):
    """S3.4f: one decision per item."""
    item = _item(validation, city.officer)
    _decide(item, Decision.KEEP, by=city.head)

    with pytest.raises(RuleViolation, match="already decided"):
        _decide(item, Decision.REVOKE, by=city.head, reason="Changed my mind.")
    with pytest.raises(RuleViolation, match="already decided"):
        _decide(item, Decision.CHANGE_ROLE, by=city.head, new_role=Grant.Role.MONITOR)

    item.refresh_from_db()
    assert item.decision == Decision.KEEP and item.follow_up is None
    assert not AccessRequest.objects.filter(action__in=[AccessRequest.Action.REMOVE,
                                                        AccessRequest.Action.CHANGE]).exists()


def test_a_grant_removed_meanwhile_closes_its_item(city, validation):
    """S3.4f: ITSA removed the analyst's account while the validation was open."""
    provisioned(city, person=city.analyst, action="remove", by=city.head)
    item = _item(validation, city.analyst)
    assert item.grant.status == Grant.Status.REMOVED

    item = _decide(item, Decision.KEEP, by=city.head)

    item.refresh_from_db()
    assert item.decision == Decision.CLOSED
    assert not AccessRequest.objects.filter(grant=item.grant, action=AccessRequest.Action.REMOVE,
                                            status__in=AccessRequest.OPEN_STATUSES).exists()


def test_keep_all_closes_the_item_of_a_grant_removed_meanwhile(city, validation):
    """S3.4f"""
    provisioned(city, person=city.analyst, action="remove", by=city.head)

    assert validation_keep_all(validation=validation, by=city.head, confirmed=True).kept == 1

    assert _item(validation, city.analyst).decision == Decision.CLOSED
    assert _item(validation, city.officer).decision == Decision.KEEP


def test_a_head_replaced_mid_validation_hands_the_items_to_the_new_head(city, validation):
    """S3.4f: the old head is refused, the new head decides."""
    department_set_head(department=city.police, head=city.requester, by=city.itsa)
    validation = Validation.objects.select_related("department").get(pk=validation.pk)
    item = _item(validation, city.officer)

    assert not may_decide(validation=validation, user=city.head)
    with pytest.raises(NotAllowed):
        _decide(item, Decision.KEEP, by=city.head)
    assert may_decide(validation=validation, user=city.requester)
    _decide(item, Decision.KEEP, by=city.requester)

    item.refresh_from_db()
    assert item.decision == Decision.KEEP and item.decided_by == city.requester


def test_a_deactivated_head_may_no_longer_decide(city, validation):
    """S3.4f"""
    city.head.is_active = False
    city.head.save(update_fields=["is_active"])

    with pytest.raises(NotAllowed):
        _decide(_item(validation, city.officer), Decision.KEEP, by=city.head)


# --- Keep all -----------------------------------------------------------------------------------

def test_keep_all_needs_an_explicit_confirmation(city, validation):
    """S3.4f"""
    with pytest.raises(RuleViolation) as refusal:
        validation_keep_all(validation=validation, by=city.head, confirmed=False)

    assert refusal.value.field == "confirm"
    assert validation.items.filter(decision=Decision.PENDING).count() == 2


def test_keep_all_keeps_only_the_pending_items_and_returns_how_many(city, validation):
    """S3.4f: a revocation already decided stays a revocation."""
    provisioned(city, person=city.requester)
    open_due_validations(today=date(2026, 6, 11))  # the requester's new access joins the review
    revoked = _decide(_item(validation, city.analyst), Decision.REVOKE, by=city.head, reason="Retired.")

    count = validation_keep_all(validation=validation, by=city.head, confirmed=True).kept

    assert count == 2
    decisions = dict(validation.items.values_list("grant__person__email", "decision"))
    assert decisions == {city.officer.email: Decision.KEEP, city.requester.email: Decision.KEEP,
                         city.analyst.email: Decision.REVOKE}
    revoked.refresh_from_db()
    assert revoked.follow_up.action == AccessRequest.Action.REMOVE
    assert validation_keep_all(validation=validation, by=city.head, confirmed=True).kept == 0


@pytest.mark.parametrize("who", ["requester", "itsa", "outsider", "designee"])
def test_only_the_head_keeps_all(city, validation, who):
    """S3.4f"""
    actor = getattr(city, who)

    with pytest.raises(NotAllowed):
        validation_keep_all(validation=validation, by=actor, confirmed=True)

    assert validation.items.filter(decision=Decision.PENDING).count() == 2


def test_the_revoked_access_is_removed_when_itsa_provisions_the_follow_up(city, validation):
    """S3.4f S3.5b S3.5c"""
    item = _decide(_item(validation, city.officer), Decision.REVOKE, by=city.head, reason="Left the unit.")

    access_request_provision(request=item.follow_up, by=city.itsa)

    item.refresh_from_db()
    assert item.grant.status == Grant.Status.REMOVED
    assert item.follow_up.status == AccessRequest.Status.COMPLETED
