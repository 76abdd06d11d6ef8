"""The pages work in Chromium under the Content Security Policy, and nothing on them breaks it."""

import re

import pytest
from conftest import PASSWORD
from playwright.sync_api import expect

from browser_helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Playwright's init script is not subject to the page's policy: it records every violation the
# browser reports, from the first byte of each page.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline code"}`
    + ` at ${event.sourceFile || document.URL}:${event.lineNumber}`);
});
"""


@pytest.fixture
def watched(page):
    """The page, with every CSP violation (event or console message) kept in `page.csp_reports`."""
    reports = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on("console", lambda message: reports.append(message.text) if "Content Security Policy" in message.text
            else None)
    page.csp_reports = reports
    return page


def assert_no_violation(page, what):
    page.wait_for_load_state("load")
    found = page.csp_reports + page.evaluate("window.cspViolations")
    assert not found, f"Content Security Policy violations on {what}:\n" + "\n".join(found)


def test_the_sign_in_pages_break_no_rule_of_the_policy(watched, city):
    """S3.10"""
    page = watched
    response = page.goto("/accounts/login/")
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_no_violation(page, "the sign-in page")

    page.goto("/admin/login/")
    expect(page.get_by_label("E-mail address")).to_be_visible()
    assert_no_violation(page, "the admin sign-in page")


def test_the_requester_pages_and_the_live_rule_preview_work_under_the_policy(watched, city):
    """S3.10 S3.2b: USWDS and htmx run under the policy; the preview still appears as the form changes."""
    page = watched
    sign_in(page, city.requester, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    # USWDS ran: it marks the page as loaded, and its menu button opens the navigation on a small screen.
    assert page.evaluate("window.uswdsPresent") is True
    expect(page.locator("html")).not_to_have_class(re.compile("usa-js-loading"))
    page.set_viewport_size({"width": 400, "height": 800})
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("navigation", name="Primary navigation")).to_be_visible()
    page.set_viewport_size({"width": 1280, "height": 900})
    assert_no_violation(page, "the requester's dashboard")

    page.goto("/requests/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_no_violation(page, "the list of access requests")

    page.goto("/requests/new/")
    expect(page.get_by_role("heading", name="New access request")).to_be_visible()
    page.get_by_role("searchbox", name="Search by name or e-mail").fill("Olive")
    page.locator("label", has_text="Olive Officer (officer@police.example)").click()
    page.get_by_label("System").select_option(label="Citywide VMS")
    page.get_by_label("Role").select_option(value="end_user")
    expect(page.locator("#rule-feedback .usa-alert")).to_be_visible()
    # htmx kept its indicator styles to itself (they are in portal.css): no inline <style> anywhere.
    assert page.locator("style").count() == 0
    assert_no_violation(page, "the access request form and its preview")
