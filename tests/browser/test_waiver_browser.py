"""A waiver in Chromium (S5.1a): the head asks for one on an officer's grant, the Director of
Public Safety grants it, and the grant page shows it; each page scanned with axe-core."""

import re
from datetime import timedelta

import pytest
from conftest import PASSWORD, make_directors, provisioned
from django.utils import timezone
from playwright.sync_api import expect

from waivers.models import Waiver

from browser_helpers import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_head_asks_the_director_of_public_safety_grants_and_the_grant_shows_the_waiver(page, city):
    """S5.1a: asked by the head, granted by the Director of Public Safety who is named as the decider."""
    directors = make_directors()
    grant = provisioned(city).grant  # the officer, an end user of the VMS
    starts_on = timezone.localdate()

    sign_in(page, city.head, PASSWORD)
    page.goto("/waivers/")
    expect(page.get_by_role("heading", name="Waivers", level=1)).to_be_visible()
    page.get_by_role("link", name="Ask for a waiver").click()
    expect(page.get_by_role("heading", name="Ask for a waiver", level=1)).to_be_visible()
    assert_accessible(page, "the new-waiver page")

    page.get_by_label("Intended use (Table 1) the waiver departs from").select_option(label="Public safety")
    page.get_by_label(re.compile("^Permissible use concerned")).select_option(label="Public safety: Detection of crime")
    page.get_by_label("Deviation from Table 1").fill("Live monitoring of every camera around the stadium.")
    page.locator("label.usa-radio__label", has_text=re.compile("^Safety$")).click()
    page.get_by_label("Justification").fill("A crowd of 60,000 at the championship game.")
    page.get_by_role("searchbox", name="Search by name, e-mail, system or account name").fill("Olive")
    page.locator("label.usa-checkbox__label", has_text=re.compile("^Olive Officer, Citywide VMS")).click()
    page.get_by_label("First day").fill(starts_on.isoformat())
    page.get_by_label("Number of days").fill("3")
    assert_accessible(page, "the filled new-waiver page")
    page.get_by_role("button", name="Send to the directors").click()

    expect(page.get_by_text(re.compile(r"Waiver \d+ is asked for"))).to_be_visible()
    waiver = Waiver.objects.get()
    assert (waiver.status, waiver.requested_by, list(waiver.grants.all())) == (
        Waiver.Status.REQUESTED, city.head, [grant])
    assert waiver.ends_on == starts_on + timedelta(days=3)
    assert_accessible(page, "the waiver page, as asked")

    sign_in(page, directors.safety, PASSWORD)
    page.goto(waiver.get_absolute_url())
    expect(page.get_by_role("heading", name="Your decision")).to_be_visible()
    expect(page.get_by_role("heading", name="The row of Table 1 it departs from")).to_be_visible()
    assert_accessible(page, "the waiver page with the director's form")
    page.locator("label.usa-radio__label", has_text="Grant the waiver").click()
    page.get_by_label("Reason for the decision").fill("The crowd justifies it, for the weekend only.")
    page.get_by_role("button", name="Record the decision").click()

    expect(page.get_by_text("The waiver is granted.")).to_be_visible()
    expect(page.get_by_text("In force", exact=True)).to_be_visible()
    assert_accessible(page, "the granted waiver")
    waiver.refresh_from_db()
    assert (waiver.status, waiver.decided_by) == (Waiver.Status.GRANTED, directors.safety)

    sign_in(page, city.head, PASSWORD)
    page.goto(grant.get_absolute_url())
    waivers_section = page.locator("section", has=page.get_by_role("heading", name="Waivers in force"))
    expect(waivers_section.get_by_role("link", name=re.compile(f"^Waiver {waiver.pk}: Public safety"))).to_be_visible()
    assert_accessible(page, "the grant page with its waiver")
