"""A waiver longer than 30 days, once the Mayor approves it, is "incorporated into this policy as a
material substantive change" (5.1): it enters the change log of the next version of the policy as a
substantive change to Section 5.1, which publishes only under the rules of Section 2.4."""

import pytest
from conftest import provisioned
from django.utils import timezone

from waivers.services import waiver_decide, waiver_record_mayor_approval, waiver_request
from portal.errors import RuleViolation
from portal.models import PolicyChange, PolicyVersion
from portal.policy import policy_change_add, policy_version_publish, policy_version_save


def _waiver(city, directors, grant, *, days):
    waiver = waiver_request(department=city.police, intended_use=city.crime_detection.intended_use,
                            deviation="Live monitoring of the stadium district.", basis="safety",
                            justification="A season of large events.", grants=[grant],
                            starts_on=timezone.localdate(), days=days, by=city.head)
    return waiver_decide(waiver=waiver, grant=True, reason="Crowd safety.", by=directors.safety)


def _published_1_0(city):
    today = timezone.localdate()
    version = policy_version_save(version=PolicyVersion(
        number="1.0", title="Executive order on surveillance", summary="First version.", effective_on=today,
        mayor_approved_on=today, aldermen_notified_on=today), by=city.designee)
    policy_change_add(version=version, section="Table 1", description="The uses.", substantive=True,
                      by=city.designee)
    return policy_version_publish(version=version, by=city.designee)


def test_the_mayors_approval_of_a_long_waiver_drafts_the_next_version_with_a_substantive_change(city, directors):
    """S5.1b S2.4"""
    _published_1_0(city)
    grant = provisioned(city).grant
    first = waiver_record_mayor_approval(waiver=_waiver(city, directors, grant, days=45),
                                         approved_on=timezone.localdate(), by=city.designee)
    second = waiver_record_mayor_approval(waiver=_waiver(city, directors, grant, days=60),
                                          approved_on=timezone.localdate(), by=city.designee)

    draft = PolicyVersion.objects.get(status=PolicyVersion.Status.DRAFT)
    assert draft.number == "1.1" and draft.title == "Executive order on surveillance"
    changes = list(draft.changes.all())
    assert [(c.section, c.substantive) for c in changes] == [("5.1", True), ("5.1", True)]
    assert f"Waiver {first.pk} " in changes[0].description and f"Waiver {second.pk} " in changes[1].description
    assert first.substantive_change and second.substantive_change

    # The draft publishes only under Section 2.4: the Mayor's approval and the Aldermen's notification.
    with pytest.raises(RuleViolation):
        policy_version_publish(version=draft, by=city.designee)
    assert PolicyVersion.objects.get(pk=draft.pk).status == PolicyVersion.Status.DRAFT


def test_a_waiver_of_30_days_changes_no_policy(city, directors):
    """S5.1a: up to 30 days a director's grant is the whole decision."""
    waiver = _waiver(city, directors, provisioned(city).grant, days=30)
    assert waiver.status == "granted" and not waiver.substantive_change
    assert not PolicyChange.objects.exists() and not PolicyVersion.objects.exists()


def test_without_any_version_yet_the_draft_is_the_first_version(city, directors):
    waiver_record_mayor_approval(waiver=_waiver(city, directors, provisioned(city).grant, days=31),
                                 approved_on=timezone.localdate(), by=city.designee)
    assert PolicyVersion.objects.get().number == "1.0"
