"""The head signs off a validation (S3.4f) with their name and the time, after entering their
password again; the validation is complete once ITSA has processed the removals it sent."""

from datetime import date

import pytest
from dateutil.relativedelta import relativedelta
from conftest import PASSWORD, provisioned
from django.utils import timezone

from audits.models import Validation, ValidationItem
from audits.services import (
    departments_due,
    open_due_validations,
    validation_item_decide,
    validation_keep_all,
    validation_refresh,
    validation_sign_off,
)
from audits.tasks import refresh_signed_off_validations
from portal.errors import NotAllowed, RuleViolation
from portal.models import AuditEvent
from access_requests.models import AccessRequest
from access_requests.services import access_request_provision

Decision = ValidationItem.Decision


@pytest.fixture
def validation(city):
    """The police's annual validation with the officer's and the analyst's VMS access to review."""
    provisioned(city)
    provisioned(city, person=city.analyst)
    [validation] = open_due_validations(today=date(2026, 6, 10))
    return validation


def _revoke_analyst(city, validation):
    item = validation.items.get(grant__person=city.analyst)
    return validation_item_decide(item=item, decision=Decision.REVOKE, reason="Retired.", by=city.head)


def _sign_offs(validation, outcome="success"):
    return AuditEvent.objects.filter(action="validation.sign_off", target=str(validation), outcome=outcome)


def test_a_wrong_password_is_refused_and_the_attempt_is_kept_in_the_audit_trail(city, validation):
    """S3.4f: non-repudiation rests on the password; a failed attempt is recorded."""
    validation_keep_all(validation=validation, by=city.head, confirmed=True)

    with pytest.raises(RuleViolation) as refusal:
        validation_sign_off(validation=validation, by=city.head, password="not my password")

    assert refusal.value.field == "password"
    validation.refresh_from_db()
    assert validation.status == Validation.Status.OPEN
    assert validation.signed_off_by is None and validation.sign_off_statement == ""
    refused = _sign_offs(validation, outcome="refused").get()
    assert refused.actor == city.head
    assert not _sign_offs(validation).exists()


def test_signing_off_with_items_pending_is_refused_with_their_count(city, validation):
    """S3.4f: every item is decided before the head signs."""
    with pytest.raises(RuleViolation, match="2 items are not decided yet"):
        validation_sign_off(validation=validation, by=city.head, password=PASSWORD)

    validation_item_decide(item=validation.items.get(grant__person=city.officer), decision=Decision.KEEP,
                           by=city.head)
    with pytest.raises(RuleViolation, match="1 item is not decided yet"):
        validation_sign_off(validation=validation, by=city.head, password=PASSWORD)

    validation.refresh_from_db()
    assert validation.status == Validation.Status.OPEN and validation.signed_off_at is None


@pytest.mark.parametrize("who", ["requester", "itsa", "outsider", "designee"])
def test_only_the_head_signs_off(city, validation, who):
    """S3.4f"""
    actor = getattr(city, who)
    validation_keep_all(validation=validation, by=city.head, confirmed=True)

    with pytest.raises(NotAllowed):
        validation_sign_off(validation=validation, by=actor, password=PASSWORD)

    validation.refresh_from_db()
    assert validation.status == Validation.Status.OPEN
    assert _sign_offs(validation, outcome="denied").filter(actor=actor).exists()


def test_the_sign_off_stores_a_statement_with_the_heads_name_and_the_time(city, validation):
    """S3.4f"""
    _revoke_analyst(city, validation)
    validation_keep_all(validation=validation, by=city.head, confirmed=True)

    signed = validation_sign_off(validation=validation, by=city.head, password=PASSWORD)

    signed.refresh_from_db()
    assert signed.status == Validation.Status.SIGNED_OFF
    assert signed.signed_off_by == city.head and signed.signed_off_at is not None
    local = timezone.localtime(signed.signed_off_at)
    statement = signed.sign_off_statement
    assert city.head.full_name in statement and str(city.police) in statement
    assert f"{local:%B} {local.day}, {local.year}" in statement and f"{local:%H:%M}" in statement
    assert signed.completed_at is None
    assert _sign_offs(signed).filter(actor=city.head).count() == 1


def test_signing_off_twice_has_one_effect(city, validation):
    """S3.4f: a double-submitted sign-off."""
    _revoke_analyst(city, validation)
    validation_keep_all(validation=validation, by=city.head, confirmed=True)
    first = validation_sign_off(validation=validation, by=city.head, password=PASSWORD)

    second = validation_sign_off(validation=validation, by=city.head, password=PASSWORD)

    assert second.signed_off_at == first.signed_off_at
    assert second.sign_off_statement == first.sign_off_statement
    assert _sign_offs(validation).count() == 1
    assert validation.history.filter(status=Validation.Status.SIGNED_OFF).count() == 1


def test_a_validation_with_nothing_for_itsa_is_complete_when_signed(city, validation):
    """S3.4e S3.4f"""
    validation_keep_all(validation=validation, by=city.head, confirmed=True)

    signed = validation_sign_off(validation=validation, by=city.head, password=PASSWORD)

    assert signed.status == Validation.Status.COMPLETE and signed.completed_at is not None
    validation.refresh_from_db()
    assert validation.status == Validation.Status.COMPLETE
    assert AuditEvent.objects.filter(action="validation.complete", target=str(validation)).count() == 1


def test_the_validation_is_complete_only_after_itsa_processes_every_removal(city, validation):
    """S3.4f S3.5b S3.5c"""
    removal = _revoke_analyst(city, validation).follow_up
    validation_keep_all(validation=validation, by=city.head, confirmed=True)
    validation_sign_off(validation=validation, by=city.head, password=PASSWORD)

    assert validation_refresh(validation=validation).status == Validation.Status.SIGNED_OFF

    access_request_provision(request=removal, by=city.itsa)
    validation.refresh_from_db()
    assert validation.status == Validation.Status.SIGNED_OFF  # until the refresh runs

    refreshed = validation_refresh(validation=validation)
    assert refreshed.status == Validation.Status.COMPLETE and refreshed.completed_at is not None
    assert validation_refresh(validation=validation).completed_at == refreshed.completed_at


def test_a_pending_role_change_also_keeps_the_validation_from_completing(city, validation):
    """S3.4f S3.5c"""
    item = validation.items.get(grant__person=city.officer)
    change = validation_item_decide(item=item, decision=Decision.CHANGE_ROLE, new_role="monitor",
                                    by=city.head).follow_up
    validation_keep_all(validation=validation, by=city.head, confirmed=True)
    validation_sign_off(validation=validation, by=city.head, password=PASSWORD)

    assert validation_refresh(validation=validation).status == Validation.Status.SIGNED_OFF
    access_request_provision(request=change, by=city.itsa)
    assert validation_refresh(validation=validation).status == Validation.Status.COMPLETE


def test_the_refresh_task_completes_signed_off_validations_once_itsa_is_done(city, validation):
    """S3.4f S3.5c: the periodic task runs the same refresh."""
    removal = _revoke_analyst(city, validation).follow_up
    validation_keep_all(validation=validation, by=city.head, confirmed=True)
    validation_sign_off(validation=validation, by=city.head, password=PASSWORD)

    assert refresh_signed_off_validations.delay().get() == 0
    access_request_provision(request=removal, by=city.itsa)
    assert refresh_signed_off_validations.delay().get() == 1
    assert refresh_signed_off_validations.delay().get() == 0

    validation.refresh_from_db()
    assert validation.status == Validation.Status.COMPLETE
    assert AccessRequest.objects.get(pk=removal.pk).status == AccessRequest.Status.COMPLETED


def test_the_head_may_not_decide_after_signing_off(city, validation):
    """S3.4f: the signed statement covers the decisions as they were."""
    _revoke_analyst(city, validation)
    validation_keep_all(validation=validation, by=city.head, confirmed=True)
    validation_sign_off(validation=validation, by=city.head, password=PASSWORD)
    item = validation.items.get(grant__person=city.officer)

    with pytest.raises(NotAllowed):
        validation_item_decide(item=item, decision=Decision.REVOKE, reason="Second thoughts.", by=city.head)


def test_a_complete_validation_starts_the_next_year(city, validation):
    """S3.4e: once complete, the department is not due again until the anniversary less the lead time."""
    validation_keep_all(validation=validation, by=city.head, confirmed=True)
    validation_sign_off(validation=validation, by=city.head, password=PASSWORD)
    completed_on = timezone.localdate()

    assert departments_due(today=completed_on) == []
    assert departments_due(today=completed_on + relativedelta(years=1)) == [city.police]


def test_a_validation_does_not_complete_while_itsa_has_returned_a_removal(city):
    """S3.4f: a revocation ITSA sent back removed nothing, so the validation is not complete."""
    from conftest import provisioned

    from audits.models import Validation
    from audits.services import open_due_validations, validation_item_decide, validation_refresh, validation_sign_off
    from conftest import PASSWORD
    from access_requests.services import access_request_return

    provisioned(city)
    validation = open_due_validations()[0]
    item = validation_item_decide(item=validation.items.get(), decision="revoke", reason="Left the unit.", by=city.head)
    validation = validation_sign_off(validation=validation, by=city.head, password=PASSWORD)
    access_request_return(request=item.follow_up, reason="Account name unknown.", by=city.itsa)

    assert validation_refresh(validation=validation).status == Validation.Status.SIGNED_OFF
