"""The head's validation in Chromium: from the dashboard to the sign-off, each page scanned with axe-core."""

import re

import pytest
from conftest import PASSWORD, provisioned
from playwright.sync_api import expect

from audits.models import Validation
from audits.services import open_due_validations
from access_requests.models import AccessRequest

from browser_helpers import assert_accessible, go_by_menu, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_head_keeps_one_access_revokes_another_and_signs_off_with_their_password(page, city):
    """S3.4e S3.4f S3.5a: the yearly validation through the pages; the revocation goes to ITSA."""
    provisioned(city)  # the officer, an end user of the VMS
    provisioned(city, person=city.analyst)
    [validation] = open_due_validations()

    sign_in(page, city.head, PASSWORD)
    go_by_menu(page, "Access", "Validations")
    expect(page.get_by_role("heading", name="Validations", level=1)).to_be_visible()
    expect(page.get_by_text("0 of 2 decided")).to_be_visible()
    assert_accessible(page, "the validations dashboard")

    page.get_by_role("link", name="Annual validation of Police Department").click()
    expect(page.get_by_role("heading", name="Annual validation of Police Department", level=1)).to_be_visible()
    assert_accessible(page, "the open validation")

    officer = page.locator("tbody tr", has_text="Olive Officer")
    officer.get_by_role("button", name=re.compile("^Keep")).click()
    expect(page.get_by_text("You keep Olive Officer’s access to Citywide VMS.")).to_be_visible()
    expect(page.locator("tbody tr", has_text="Olive Officer").get_by_text("Keep", exact=True)).to_be_visible()
    assert_accessible(page, "the validation with one item kept")

    analyst = page.locator("tbody tr", has_text="Andy Analyst")
    revoke = analyst.locator("details").filter(has=page.locator("summary", has_text="Revoke"))
    revoke.locator("summary").click()
    revoke.get_by_label(re.compile("^Reason for revoking")).fill("Moved to records; no longer reviews footage.")
    assert_accessible(page, "the revocation form")
    revoke.locator("button[type=submit]").click()
    expect(page.get_by_text(re.compile("You revoked Andy Analyst’s access to Citywide VMS"))).to_be_visible()
    removal = AccessRequest.objects.get(person=city.analyst, action=AccessRequest.Action.REMOVE)
    expect(page.get_by_role("link", name=re.compile(removal.reference))).to_be_visible()
    assert_accessible(page, "the validation with every item decided")

    page.get_by_label("Enter your password to sign").fill(PASSWORD)
    page.get_by_role("button", name="Sign off").click()
    expect(page.get_by_text(f"Signed by {city.head.full_name}")).to_be_visible()
    expect(page.get_by_text(re.compile(r"I, Hana Head, head of Police Department, have reviewed every access")).first)\
        .to_be_visible()
    assert_accessible(page, "the signed-off validation")

    validation.refresh_from_db()
    assert validation.status == Validation.Status.SIGNED_OFF
    assert validation.signed_off_by == city.head and validation.signed_off_at is not None
    removal.refresh_from_db()
    assert removal.status == AccessRequest.Status.WITH_ITSA and removal.grant.person == city.analyst
