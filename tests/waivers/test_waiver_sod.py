"""Separation of duties is never waivable (S3.2a, S3.2b, S5.1): a waiver in force on a person's
end-user grant lets no conflict through, at filing, in the rule itself or at provisioning."""

import pytest
from conftest import file_request, provisioned
from django.utils import timezone

from access_requests.services import access_request_provision
from accounts.models import Grant
from accounts.sod import sod_conflict
from waivers import services as waiver_services
from portal.errors import RuleViolation
from portal.models import IntendedUse


def _granted_waiver(city, directors, grants):
    waiver = waiver_services.waiver_request(
        department=city.police, intended_use=IntendedUse.objects.get(code="public-safety"),
        deviation="Live monitoring of the whole district.", basis="safety", justification="Credible threat.",
        grants=grants, starts_on=timezone.localdate(), days=10, by=city.head,
    )
    waiver = waiver_services.waiver_decide(waiver=waiver, grant=True, reason="Granted.", by=directors.safety)
    assert waiver.is_in_force()
    return waiver


def test_an_end_user_under_a_waiver_still_cannot_administer_the_system(city, directors):
    """S3.2a: the officer's end-user grant is under a waiver in force; an administrator role on the
    same system is still refused by the rule and at filing."""
    grant = provisioned(city).grant
    _granted_waiver(city, directors, [grant])

    assert "Section 3.2" in sod_conflict(person=city.officer, system=city.vms, roles=["administrator"])
    with pytest.raises(RuleViolation) as refusal:
        file_request(city, role="administrator", by=city.head)
    assert "Section 3.2" in refusal.value.message
    assert not Grant.objects.filter(person=city.officer, role="administrator").exists()


def test_provisioning_still_refuses_an_administrator_becoming_an_end_user_under_a_waiver(city, directors):
    """S3.2b: the analyst's end-user request is with ITSA when an administrator account of theirs
    appears; a waiver in force on the analyst's other end-user grant changes nothing: ITSA's
    provisioning refuses, and the administrator grant itself can never be put under a waiver."""
    request = file_request(city, person=city.analyst, role="end_user", by=city.head)
    traffic = Grant.objects.create(
        person=city.analyst, system=city.traffic, department=city.police, role="end_user",
        account_name="aanalyst-traffic", provisioned_at=timezone.now(), provisioned_by=city.itsa)
    admin = Grant.objects.create(
        person=city.analyst, system=city.vms, department=city.police, role="administrator",
        account_name="aanalyst-admin", provisioned_at=timezone.now(), provisioned_by=city.itsa)
    _granted_waiver(city, directors, [traffic])

    with pytest.raises(RuleViolation) as refusal:
        waiver_services.waiver_request(
            department=city.police, intended_use=IntendedUse.objects.get(code="public-safety"),
            deviation="Let the administrator watch footage.", basis="asset_protection", justification="Short-staffed.",
            grants=[admin], starts_on=timezone.localdate(), days=5, by=city.head)
    assert "never waivable" in refusal.value.message

    assert "Section 3.2" in sod_conflict(person=city.analyst, system=city.vms, roles=["end_user"])
    with pytest.raises(RuleViolation) as refusal:
        access_request_provision(request=request, by=city.itsa, account_name="aanalyst")
    assert "Section 3.2" in refusal.value.message
    assert not Grant.objects.filter(person=city.analyst, system=city.vms, role="end_user").exists()
