"""Biometric data is kept only for the minimum period (S3.12): each biometric system records that
period, the retention page and the public policy page show it, and no extension applies to it."""

from datetime import timedelta

import pytest
from conftest import PASSWORD
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import SAFETY_DIRECTOR_GROUP, SurveillanceSystem, User
from accounts.services import role_group
from retention.selectors import BIOMETRIC_FLAG, biometric_exclusion, retention_by_system
from retention.services import retention_extension_decide, retention_extension_request


@pytest.fixture
def face(db):
    system = SurveillanceSystem(name="Face Matching", code="face", kind="biometric", uses_biometrics=True,
                                biometric_retention_days=14)
    system.full_clean()
    system.save()
    return system


@pytest.mark.django_db
def test_a_biometric_system_without_its_minimum_period_is_refused():
    """S3.12: the way around: before, a biometric system was recorded with no period at all."""
    system = SurveillanceSystem(name="Gait Analysis", code="gait", kind="biometric", uses_biometrics=True)
    with pytest.raises(ValidationError) as refused:
        system.full_clean()
    assert "Section 3.12" in refused.value.message_dict["biometric_retention_days"][0]


@pytest.mark.django_db
def test_the_period_is_at_least_a_day_and_only_for_biometric_systems():
    """S3.12"""
    with pytest.raises(ValidationError) as refused:
        SurveillanceSystem(name="Gait", code="gait", uses_biometrics=True, biometric_retention_days=0).full_clean()
    assert "biometric_retention_days" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        SurveillanceSystem(name="Cameras", code="cams", biometric_retention_days=7).full_clean()
    assert "Only a system that uses biometrics" in refused.value.message_dict["biometric_retention_days"][0]
    SurveillanceSystem(name="Cameras", code="cams").full_clean()


@pytest.fixture
def itsa_admin(city, client):
    User.objects.filter(pk=city.itsa.pk).update(is_staff=True, is_superuser=True)
    client.force_login(city.itsa)
    return client


def _system_form(**changes):
    return {"name": "Gait Analysis", "code": "gait", "kind": "biometric", "description": "",
            "uses_biometrics": "on", "biometric_retention_days": "", "owner": "", **changes}


def test_the_admin_refuses_a_biometric_system_without_its_minimum_period(city, itsa_admin):
    """S3.12"""
    url = reverse("admin:accounts_surveillancesystem_add")
    response = itsa_admin.post(url, _system_form())
    assert response.status_code == 200
    assert "Section 3.12" in response.content.decode()
    assert not SurveillanceSystem.objects.filter(code="gait").exists()
    assert itsa_admin.post(url, _system_form(biometric_retention_days="21")).status_code == 302
    assert SurveillanceSystem.objects.get(code="gait").biometric_retention_days == 21


def test_the_retention_page_shows_the_minimum_beside_the_biometric_flag(city, client, face):
    """S3.12"""
    row = {r.system.code: r for r in retention_by_system()}
    assert (row["face"].biometric_flag, row["face"].biometric_retention_days) == (BIOMETRIC_FLAG, 14)
    assert row["vms"].biometric_retention_days is None
    client.force_login(city.itsa)
    page = client.get(reverse("retention:list")).content.decode()
    table = page[page.index("retention-by-system"):page.index("extensions-heading")]
    assert BIOMETRIC_FLAG in table
    assert "Minimum retention of its biometric data: 14 days." in table
    assert table.count("Minimum retention of its biometric data") == 1


def test_no_extension_applies_to_the_biometric_data(city, face):
    """S3.12: an extension naming the system keeps its surveillance data only; the minimum stays."""
    today = timezone.localdate()
    safety = User.objects.create_user(email="safety@city.example", password=PASSWORD, full_name="Sasha Safety")
    safety.groups.add(role_group(SAFETY_DIRECTOR_GROUP))
    extension = retention_extension_request(
        systems=[face], condition="a", justification="High rate of burglaries.", starts_on=today,
        ends_on=today + timedelta(days=120), review_on=today + timedelta(days=60), by=city.itsa,
    )
    retention_extension_decide(extension=extension, grant=True, reason="Met.", by=safety)
    row = {r.system.code: r for r in retention_by_system()}["face"]
    assert row.is_extended and row.biometric_retention_days == 14 and row.biometric_flag == BIOMETRIC_FLAG
    assert "does not cover the biometric data of Face Matching" in biometric_exclusion([face])


def test_the_public_policy_page_lists_biometric_systems_with_their_minimum(city, face):
    """S3.12"""
    page = Client().get(reverse("transparency:index")).content.decode()
    section = page[page.index('id="biometric-heading"'):page.index('id="changes-heading"')]
    assert "Face Matching: 14 days" in section
    assert "Citywide VMS" not in section
