"""The person picker in Chromium, on the incident form: with JavaScript the matches come as one types
and a match is chosen with the keyboard; without it, Enter in the search box and the Find button
search, and the report is sent all the same."""

import re

import pytest
from conftest import PASSWORD
from playwright.sync_api import expect

from incidents.models import Incident

from browser_helpers import assert_accessible, sign_in, watch_console

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANDY = "Andy Analyst — Police Department"
SEND = "Send the report to the Mayor's designee"


def _fill_the_report(page):
    page.locator("label.usa-radio__label", has_text="Willful abuse").click()
    page.get_by_label("Describe what happened").fill("Replayed footage of a private home.")


def test_the_matches_come_as_one_types_and_one_is_chosen_with_the_keyboard(page, city):
    """S5.2: the report names the person concerned, found by a search."""
    console = watch_console(page)
    sign_in(page, city.officer, PASSWORD)
    page.goto("/incidents/new/")
    _fill_the_report(page)
    expect(page.get_by_text(ANDY)).to_have_count(0)

    search = page.get_by_role("searchbox", name="Search by name or e-mail")
    search.press_sequentially("an", delay=50)
    expect(page.get_by_role("radio", name=ANDY)).to_be_attached()
    expect(page.locator(".picker__results")).to_contain_text("people match “an”")
    assert_accessible(page, "the incident form with the matches")

    # From the box: the Find button, then the group of radios (at its checked one), then down.
    search.press("Tab")
    expect(page.get_by_role("button", name="Find")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("radio", name="Nobody in particular, or I do not know")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("radio", name=ANDY)).to_be_checked()

    page.get_by_role("button", name=SEND).click()
    expect(page.get_by_text(re.compile(r"Your report INC-\d{4}-\d{4} is documented"))).to_be_visible()
    assert Incident.objects.get().person == city.analyst
    assert not console, "\n".join(console)


def test_without_javascript_enter_and_the_find_button_search_and_the_report_is_sent(browser, live_server, city):
    """S5.2: the form works without JavaScript; Enter in the search box finds, it sends nothing."""
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        sign_in(page, city.officer, PASSWORD)
        page.goto("/incidents/new/")
        _fill_the_report(page)
        search = page.get_by_role("searchbox", name="Search by name or e-mail")
        search.fill("andy")
        search.press("Enter")
        page.wait_for_load_state()
        expect(page.get_by_role("radio", name=ANDY)).to_be_attached()
        assert not Incident.objects.exists()
        expect(page.get_by_label("Describe what happened")).to_have_value("Replayed footage of a private home.")

        page.get_by_role("searchbox", name="Search by name or e-mail").fill("analyst")
        page.get_by_role("button", name="Find").click()
        page.wait_for_load_state()
        expect(page.locator(".picker__results")).to_contain_text("1 person matches “analyst”")
        page.locator("label", has_text=ANDY).click()
        page.get_by_role("button", name=SEND).click()
        expect(page.get_by_text(re.compile(r"Your report INC-\d{4}-\d{4} is documented"))).to_be_visible()
        assert Incident.objects.get().person == city.analyst
    finally:
        context.close()
