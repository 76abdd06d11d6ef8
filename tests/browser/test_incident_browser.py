"""An anonymous incident report in Chromium, from the form to the designee's suspension, each page
scanned with axe-core."""

import re

import pytest
from conftest import PASSWORD
from django.db import transaction
from playwright.sync_api import expect

from accounts.models import Grant
from accounts.services import grant_open
from incidents.models import Incident

from browser_helpers import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WHAT = "On several evenings the person replayed footage of a private home with no case number."


def test_an_officer_reports_anonymously_and_the_designee_suspends_the_access(page, city):
    """S5.2 and margin comment JC28: anonymous report, documented at once; immediate suspension."""
    with transaction.atomic():
        grant = grant_open(person=city.analyst, system=city.vms, department=city.police, role="end_user",
                           account_name="andy-vms", permissible_uses=[city.crime_detection], by=city.itsa)

    sign_in(page, city.officer, PASSWORD)
    page.goto("/incidents/new/")
    expect(page.get_by_role("heading", name="Report an incident", level=1)).to_be_visible()
    page.locator("label.usa-radio__label", has_text="Willful abuse").click()
    page.get_by_label("Describe what happened").fill(WHAT)
    page.get_by_role("searchbox", name="Search by name or e-mail").fill("Andy")
    page.locator("label", has_text="Andy Analyst — Police Department").click()
    page.get_by_label("System concerned").select_option(label="Citywide VMS")
    page.locator("label.usa-checkbox__label", has_text="Report anonymously").click()
    expect(page.get_by_label("Report anonymously")).to_be_checked()
    assert_accessible(page, "the incident report form")

    page.get_by_role("button", name="Send the report to the Mayor's designee").click()
    expect(page.get_by_text(re.compile(r"Your anonymous report INC-\d{4}-\d{4} is documented"))).to_be_visible()
    expect(page.get_by_text("You have no named report")).to_be_visible()
    assert_accessible(page, "the confirmation of the anonymous report")

    incident = Incident.objects.get()
    assert incident.anonymous and incident.reported_by is None
    assert [record.history_user_id for record in incident.history.all()] == [None]

    sign_in(page, city.designee, PASSWORD)
    page.goto("/incidents/")
    page.get_by_role("link", name=incident.reference).click()
    expect(page.get_by_role("heading", name=f"Incident {incident.reference}", level=1)).to_be_visible()
    expect(page.get_by_text(WHAT)).to_be_visible()
    expect(page.get_by_text("Anonymous reporter").first).to_be_visible()
    expect(page.get_by_text(city.officer.full_name)).to_have_count(0)
    assert_accessible(page, "the incident as the designee sees it")

    page.get_by_label("Note for ITSA and the department head").fill("Good-faith complaint.")
    page.get_by_role("button", name="Suspend Andy Analyst’s access").click()
    expect(page.get_by_text(re.compile(r"access is suspended pending review \(1 account\)"))).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Citywide VMS")).get_by_text("Suspended")).to_be_visible()
    assert_accessible(page, "the incident with the access suspended")

    grant.refresh_from_db()
    incident.refresh_from_db()
    assert grant.status == Grant.Status.SUSPENDED
    assert incident.suspended_by == city.designee and list(incident.suspended_grants.all()) == [grant]
