"""The dashboard tells each decider what waits for them under Sections 3.6, 3.7, 3.11 and 5, never
counting what they asked for themselves, and offers everyone the way to report misuse (S5.2)."""

from datetime import timedelta

from conftest import provisioned

from django.urls import reverse
from django.utils import timezone

from agreements.services import agreement_request
from incidents.services import incident_report
from pages.selectors import to_decide
from external.services import external_connection_request
from retention.services import retention_extension_request
from waivers.services import waiver_request


def _counts(user):
    return {row.label.split(" (")[0]: row.count for row in to_decide(user)}


def test_each_decider_sees_what_waits_for_them_and_not_what_they_asked_for(city, directors):
    """S3.6a S3.7 S3.11 S5.1a S5.1b S5.2"""
    today = timezone.localdate()
    grant = provisioned(city).grant
    external_connection_request(
        department=city.police, name="Transit cameras", owner="Transit Authority", systems=[city.vms],
        permissible_uses=[city.crime_detection], business_reasons="Station safety.", method="secure_api",
        starts_on=today, ends_on=today + timedelta(days=60), by=city.head)
    agreement_request(department=city.police, third_party="State Patrol", category="law_enforcement",
                      shared="Video.", conditions="Investigations.", excludes_biometric=True, systems=[city.vms],
                      starts_on=today, ends_on=today + timedelta(days=60), by=city.head)
    retention_extension_request(systems=[city.vms], condition="a", justification="High crime.", starts_on=today,
                                ends_on=today + timedelta(days=60), review_on=today + timedelta(days=30),
                                by=city.head)
    waiver_request(department=city.police, intended_use=city.crime_detection.intended_use, deviation="Wider area.",
                   basis="safety", justification="A threat.", grants=[grant], starts_on=today, days=3,
                   by=directors.operations)
    incident_report(nature="abuse", description="Looked up a neighbour.", person=city.officer, by=city.requester)

    designee = _counts(city.designee)
    assert designee["External system connections to approve or deny"] == 1
    assert designee["Information sharing agreements awaiting the Mayor's approval"] == 1
    assert designee["Open incident reports"] == 1
    # The City Operations Director asked for the waiver: only the other director may decide it.
    assert _counts(directors.operations)["Waivers to grant or deny"] == 0
    safety = _counts(directors.safety)
    assert safety["Waivers to grant or deny"] == 1
    assert safety["Retention extensions to grant or deny"] == 1
    assert "Retention extensions to grant or deny" not in _counts(directors.operations)
    assert _counts(city.itsa) == {"Open incident reports": 1}
    assert _counts(city.head) == {}


def test_the_dashboard_shows_the_panel_and_the_report_link(city, directors, client):
    """S5.2: anyone signed in can report; a director has a role, not the 'no role yet' notice."""
    client.force_login(directors.safety)
    page = client.get(reverse("home")).content.decode()
    assert "Waiting for your decision" in page
    assert "You have no role in the portal yet" not in page
    assert reverse("incidents:new") in page

    client.force_login(city.officer)
    page = client.get(reverse("home")).content.decode()
    assert reverse("incidents:new") in page
    assert "Waiting for your decision" not in page
