"""The main journeys in Chromium, each page scanned with axe-core."""

import re

import pytest
from conftest import PASSWORD, make_pdf, provisioned
from playwright.sync_api import expect

from accounts.models import Grant
from access_requests.models import AccessRequest

from browser_helpers import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PDF = make_pdf()


def test_a_requester_files_the_head_approves_itsa_provisions_and_the_head_sees_the_grant(page, city):
    """S3.3 S3.4c S3.4d S3.5a S3.5b: the whole path through the pages."""
    sign_in(page, city.requester, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page, "requester's dashboard")

    page.get_by_role("link", name="New access request").first.click()
    expect(page.get_by_role("heading", name="New access request")).to_be_visible()
    assert_accessible(page, "the request form")
    page.get_by_role("searchbox", name="Search by name or e-mail").fill("Olive")
    page.locator("label", has_text="Olive Officer (officer@police.example)").click()
    page.get_by_label("System").select_option(label="Citywide VMS")
    page.get_by_label("Request", exact=True).select_option(value="add")
    page.get_by_label("Role").select_option(value="end_user")
    page.locator("label.usa-checkbox__label", has_text=re.compile("^Detection of crime$")).click()
    page.get_by_label("How the conditions are met").fill("Case 26-001234, until the case closes.")
    page.get_by_label("Justification").fill("Detective work on open burglary cases.")
    page.locator("input[name=documents]").set_input_files(
        files=[{"name": "signed-request.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_role("button", name="File the access request").click()
    expect(page.get_by_text("Awaiting the head's approval").first).to_be_visible()
    expect(page.get_by_text("signed-request.pdf")).to_be_visible()
    assert_accessible(page, "the filed request")
    request = AccessRequest.objects.get(person=city.officer)
    assert request.requested_by == city.requester and request.status == AccessRequest.Status.AWAITING_HEAD

    sign_in(page, city.head, PASSWORD)
    assert_accessible(page, "head's dashboard")
    page.get_by_role("link", name=request.reference).first.click()
    page.get_by_role("button", name="Approve and send to ITSA").click()
    expect(page.get_by_text("Approved — with ITSA").first).to_be_visible()
    assert_accessible(page, "the approved request")

    sign_in(page, city.itsa, PASSWORD)
    page.goto("/requests/queue/")
    expect(page.get_by_role("link", name=request.reference).first).to_be_visible()
    expect(page.get_by_text("signed-request.pdf")).to_be_visible()
    assert_accessible(page, "the ITSA queue")
    page.get_by_role("link", name=request.reference).first.click()
    page.get_by_label(re.compile("Account name")).fill("oofficer")
    page.get_by_role("button", name="Record the new account").click()
    expect(page.get_by_text("Completed by ITSA").first).to_be_visible()
    assert_accessible(page, "the completed request")

    grant = Grant.objects.get(person=city.officer, system=city.vms)
    assert grant.status == Grant.Status.ACTIVE and grant.account_name == "oofficer"

    sign_in(page, city.head, PASSWORD)
    page.goto(f"/people/{city.officer.pk}/")
    expect(page.get_by_text("oofficer").first).to_be_visible()
    expect(page.get_by_text("Citywide VMS").first).to_be_visible()
    assert_accessible(page, "the person page with the grant")
    page.get_by_role("link", name=re.compile("Citywide VMS")).first.click()
    expect(page.get_by_text(request.reference).first).to_be_visible()
    assert_accessible(page, "the grant page")


def test_a_request_that_would_make_an_end_user_an_administrator_is_refused_with_the_reason(page, city):
    """S3.2b: the form warns as soon as the role is chosen, and filing is refused."""
    provisioned(city)  # the officer is an end user of the VMS
    sign_in(page, city.requester, PASSWORD)
    page.goto("/requests/new/")
    page.get_by_role("searchbox", name="Search by name or e-mail").fill("Olive")
    page.locator("label", has_text="Olive Officer (officer@police.example)").click()
    page.get_by_label("System").select_option(label="Citywide VMS")
    page.get_by_label("Request", exact=True).select_option(value="add")
    page.get_by_label("Role").select_option(value="administrator")
    feedback = page.locator("#rule-feedback")
    expect(feedback).to_contain_text("Section 3.2")
    assert_accessible(page, "the form with the inline warning")

    page.locator("label.usa-checkbox__label", has_text=re.compile("^Detection of crime$")).click()
    page.get_by_label("How the conditions are met").fill("Case 26-001234, until the case closes.")
    page.get_by_label("Justification").fill("Would administer the VMS.")
    page.get_by_role("button", name="File the access request").click()
    expect(page.get_by_text(re.compile("cannot also administer, monitor or audit")).first).to_be_visible()
    assert_accessible(page, "the refused request")
    assert not AccessRequest.objects.filter(person=city.officer, role="administrator").exists()
    assert Grant.objects.filter(person=city.officer, system=city.vms).count() == 1
