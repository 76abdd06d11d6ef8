"""A third party's person holds a grant of the sponsoring department: the department's annual
validation reviews it like any other (S3.4e, S3.7), and a revocation ends it through ITSA."""

import pytest
from agreement_setup import add_person, approved

from access_requests.models import AccessRequest
from access_requests.services import access_request_provision
from accounts.models import Grant
from accounts.services import grant_change
from audits.models import ValidationItem
from audits.services import open_due_validations, validation_item_decide
from portal.errors import RuleViolation

Decision = ValidationItem.Decision

pytestmark = pytest.mark.django_db


def _police_validation(city):
    [validation] = [v for v in open_due_validations() if v.department_id == city.police.pk]
    return validation


def test_the_annual_validation_of_the_sponsor_reviews_the_third_partys_grant(city):
    """S3.4e S3.7"""
    grant = add_person(city, approved(city))

    validation = _police_validation(city)

    item = validation.items.get(grant=grant)
    assert item.is_pending and item.grant.person.is_third_party


def test_a_revoked_third_party_grant_goes_to_itsa_and_ends(city):
    """S3.4e S3.7"""
    grant = add_person(city, approved(city))
    item = _police_validation(city).items.get(grant=grant)

    decided = validation_item_decide(item=item, decision=Decision.REVOKE, reason="The case is closed.",
                                     by=city.head)
    removal = decided.follow_up
    assert removal.action == AccessRequest.Action.REMOVE and removal.status == AccessRequest.Status.WITH_ITSA
    access_request_provision(request=removal, by=city.itsa)

    grant.refresh_from_db()
    assert grant.status == Grant.Status.REMOVED


def test_a_third_partys_person_cannot_be_made_staff_through_the_validation(city):
    """S3.7: a third party's person holds a view-only end-user grant and nothing else; the head's
    change of role is refused when it is decided, and the item stays to decide."""
    grant = add_person(city, approved(city))
    item = _police_validation(city).items.get(grant=grant)

    with pytest.raises(RuleViolation, match="never a staff role"):
        validation_item_decide(item=item, decision=Decision.CHANGE_ROLE, new_role=Grant.Role.ADMINISTRATOR,
                               reason="More work.", by=city.head)

    item.refresh_from_db()
    grant.refresh_from_db()
    assert item.is_pending and item.follow_up is None
    assert grant.role == Grant.Role.END_USER and grant.view_only and grant.is_live
    assert not AccessRequest.objects.filter(grant=grant, action=AccessRequest.Action.CHANGE).exists()


def test_provisioning_never_gives_a_third_partys_person_a_staff_role(city):
    """S3.7: the same rule where ITSA changes the account, for a change queued by any path."""
    grant = add_person(city, approved(city))

    with pytest.raises(RuleViolation, match="never a staff role"):
        grant_change(grant=grant, role=Grant.Role.MONITOR, permissible_uses=list(grant.permissible_uses.all()),
                     account_name="", by=city.itsa)

    grant.refresh_from_db()
    assert grant.role == Grant.Role.END_USER
