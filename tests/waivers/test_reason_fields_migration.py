"""Migration audits 0006 moves the reasons the services used to append to decision_reason (the
Mayor's refusal and a revocation of a waiver, the early end of a retention extension) to their own
fields, and leaves the director's reason as written."""

import importlib
from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from waivers import services as waiver_services
from retention.models import RetentionExtension
from waivers.models import Waiver
from retention.services import retention_extension_request
from portal.models import IntendedUse

pytestmark = pytest.mark.django_db

split_reasons = importlib.import_module("audits.migrations.0006_separate_end_reasons").split_reasons


def _apps_at_0006():
    """The models as the migration saw them (waivers and retention extensions were still in audits)."""
    return MigrationLoader(connection).project_state(("audits", "0006_separate_end_reasons")).apps


def _waiver(city, grant, decision_reason, deviation="Parade."):
    waiver = waiver_services.waiver_request(
        department=city.police, intended_use=IntendedUse.objects.get(code="public-safety"), deviation=deviation,
        basis="safety", justification="A crowd.", grants=[grant], starts_on=timezone.localdate(), days=3,
        by=city.head)
    Waiver.objects.filter(pk=waiver.pk).update(decision_reason=decision_reason)
    return waiver


def test_the_mayors_refusal_and_a_revocation_move_to_their_fields(city, grant):
    refused = _waiver(city, grant, "Long works.\n\nThe Mayor refused the waiver on 05 March 2026 "
                                   "(recorded by Dee Designee): Too long: come back in 30 days.")
    revoked = _waiver(city, grant, "Ok.\n\nRevoked by Sasha Safety: It was cancelled.", deviation="Marathon.")

    split_reasons(_apps_at_0006(), None)

    refused.refresh_from_db()
    revoked.refresh_from_db()
    assert (refused.decision_reason, refused.mayor_note, refused.mayor_refused_on) == (
        "Long works.", "Too long: come back in 30 days.", date(2026, 3, 5))
    assert (revoked.decision_reason, revoked.end_reason) == ("Ok.", "It was cancelled.")


def test_a_reason_with_paragraphs_of_its_own_is_left_as_written(city, grant):
    waiver = _waiver(city, grant, "Stadium event.\n\nWith a second paragraph.")

    split_reasons(_apps_at_0006(), None)

    waiver.refresh_from_db()
    assert (waiver.decision_reason, waiver.end_reason, waiver.mayor_note) == (
        "Stadium event.\n\nWith a second paragraph.", "", "")


def test_an_early_end_of_a_retention_extension_moves_to_its_field(city):
    today = timezone.localdate()
    extension = retention_extension_request(
        systems=[city.vms], condition="b", justification="Break-ins.", starts_on=today,
        ends_on=today + timedelta(days=60), review_on=today + timedelta(days=30), by=city.head)
    RetentionExtension.objects.filter(pk=extension.pk).update(
        decision_reason="Condition (b) is met.\n\nEnded early by Sasha Safety on March 5, 2026: The break-ins stopped.")

    split_reasons(_apps_at_0006(), None)

    extension.refresh_from_db()
    assert (extension.decision_reason, extension.end_reason) == ("Condition (b) is met.", "The break-ins stopped.")
