"""The registers of Sections 3.6, 3.7 and 3.11 in Chromium, with the dashboard's decisions panel
and the Oversight menu: each page as its decider sees it, scanned with axe-core (S3.6a S3.7 S3.11)."""

from datetime import timedelta

import pytest
from conftest import PASSWORD, make_directors
from django.utils import timezone
from playwright.sync_api import expect

from agreements.services import agreement_request
from external.services import external_connection_request
from retention.services import retention_extension_request

from browser_helpers import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_each_register_and_its_record_pass_the_scan_as_their_decider_sees_them(page, city):
    directors = make_directors()
    today = timezone.localdate()
    connection = external_connection_request(
        department=city.police, name="Transit cameras", owner="Transit Authority", systems=[city.vms],
        permissible_uses=[city.crime_detection], business_reasons="Station safety.", method="secure_api",
        starts_on=today, ends_on=today + timedelta(days=60), by=city.head)
    agreement = agreement_request(
        department=city.police, third_party="County Sheriff", category="law_enforcement", shared="Video.",
        conditions="Investigations.", excludes_biometric=True, systems=[city.vms], starts_on=today,
        ends_on=today + timedelta(days=60), by=city.head)
    extension = retention_extension_request(
        systems=[city.vms], condition="b", justification="Recurring thefts.", starts_on=today,
        ends_on=today + timedelta(days=60), review_on=today + timedelta(days=30), by=city.head)

    sign_in(page, city.designee, PASSWORD)
    expect(page.get_by_role("heading", name="Waiting for your decision", exact=True)).to_be_visible()
    assert_accessible(page, "the designee's dashboard")
    page.get_by_role("button", name="Oversight").click()
    expect(page.get_by_role("link", name="Sharing agreements", exact=True)).to_be_visible()
    assert_accessible(page, "the dashboard with the Oversight menu open")
    for url, what in (("/external-systems/", "the external connections"), (connection.get_absolute_url(),
                      "an external connection"), ("/agreements/", "the agreements register"),
                      (agreement.get_absolute_url(), "an agreement")):
        page.goto(url)
        assert_accessible(page, what)

    sign_in(page, directors.safety, PASSWORD)
    for url, what in (("/retention/", "the retention register"), (extension.get_absolute_url(),
                      "a retention extension")):
        page.goto(url)
        assert_accessible(page, what)


def test_the_oversight_appointment_pages_and_the_auditors_dashboard_pass_the_scan(page, city):
    """The read-only oversight role in Chromium: ITSA's register and request form, the designee's
    decision, and the auditor's dashboard, each scanned with axe-core."""
    from accounts.models import User
    from security.oversight import oversight_propose

    person = User.objects.create_user("ivy@audit.city.example", full_name="Ivy Inspector", password=PASSWORD)
    proposed = oversight_propose(person=person, body="Office of the Internal Auditor", purpose="Yearly audit.",
                                 by=city.itsa)
    sign_in(page, city.itsa, PASSWORD)
    page.goto("/accounts/oversight/")
    expect(page.get_by_role("heading", name="Ask for an appointment")).to_be_visible()
    assert_accessible(page, "ITSA's oversight appointments")

    sign_in(page, city.designee, PASSWORD)
    page.goto(proposed.get_absolute_url())
    expect(page.get_by_role("heading", name="Decide the appointment")).to_be_visible()
    assert_accessible(page, "an appointment awaiting the designee")
    page.locator("label.usa-radio__label", has_text="Approve the appointment").click()
    page.get_by_label("Reason for the decision").fill("Audit plan 2027.")
    page.get_by_role("button", name="Record the decision").click()
    if page.get_by_label("Password").count():  # the decision asks for the password again
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("Ivy Inspector now reads for oversight.")).to_be_visible()

    sign_in(page, User.objects.get(pk=person.pk), PASSWORD)
    expect(page.get_by_role("heading", name="You read for oversight")).to_be_visible()
    assert_accessible(page, "the auditor's dashboard")
    page.goto("/audit-log/")
    assert_accessible(page, "the audit log as an auditor reads it")
