"""The browser console stays clean while a person fills in the access request form quickly: every
control htmx watches is worked from the keyboard faster than the server answers, and htmx logs no
aborted request (`htmx:sendAbort`), nor anything else, and no script fails (S3.10)."""

import pytest
from conftest import PASSWORD
from playwright.sync_api import expect

from browser_helpers import sign_in, watch_console

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every control of the form that htmx sends a request for.
HTMX_CONTROLS = "#access-request-form :is([hx-get], [hx-post], [hx-put], [hx-patch], [hx-delete])"
# Each step through a select's options (or a group's radios) is a change, and each change a request.
KEYSTROKES = ["ArrowDown", "ArrowDown", "ArrowUp", "ArrowDown", "End", "Home", "ArrowDown", "ArrowDown"]
OLIVE = "Olive Officer (officer@police.example)"


def _work_every_control(page, worked: set[str] | None = None) -> set[str]:
    """Step quickly through the choices of each htmx-driven select and radio group, and type into
    each htmx-driven text box; returns the names of the controls worked."""
    worked = set() if worked is None else worked
    while True:
        # Found again each time: a search swaps new controls into the form.
        pending = [c for c in page.locator(HTMX_CONTROLS).all()
                   if c.is_visible() and c.get_attribute("name") not in worked and c.get_attribute("type") != "submit"]
        if not pending:
            return worked
        control = pending[0]
        worked.add(control.get_attribute("name"))
        kind = control.evaluate("e => e.tagName === 'SELECT' ? 'select' : e.type")
        control.focus()
        if kind in ("select", "radio"):
            for key in KEYSTROKES:
                page.keyboard.press(key)
        elif kind == "checkbox":
            for _ in range(4):
                page.keyboard.press("Space")
        else:
            page.keyboard.type("Officer police 26-001234")
            page.keyboard.press("Control+A")
            page.keyboard.type("of")


def _choose_person(page, label: str):
    """The person, through the person search."""
    form = page.locator("#access-request-form")
    form.get_by_role("searchbox").first.fill(label.split()[0])
    # The design system draws its own radio over the label, the input itself being off screen.
    form.locator("label", has_text=label).click()
    expect(form.get_by_role("radio", name=label)).to_be_checked()


@pytest.mark.parametrize("role", ["requester", "head"])
def test_typing_quickly_into_the_request_form_leaves_the_console_clean(page, city, role):
    """S3.2b S3.10: the live rule preview answers the last choice, and nothing is logged on the way."""
    console = watch_console(page)
    sign_in(page, getattr(city, role), PASSWORD)
    page.goto("/requests/new/")
    expect(page.get_by_role("heading", name="New access request")).to_be_visible()

    worked = _work_every_control(page)
    # Stepping through the kinds of request may stop on one that asks no role (a removal), which hides
    # the role: back to an addition, and its role is worked too.
    page.get_by_label("Request", exact=True).select_option(value="add")
    expect(page.get_by_label("Role")).to_be_visible()
    worked = _work_every_control(page, worked)
    assert {"system", "action", "role"} <= worked, worked
    # Then the choices of a request the rules accept: the preview shows that one, not an earlier one.
    _choose_person(page, OLIVE)
    page.get_by_label("System").select_option(label="Citywide VMS")
    page.get_by_label("Request").select_option(value="add")
    page.get_by_label("Role").select_option(value="end_user")
    page.wait_for_load_state("networkidle")
    expect(page.locator("#rule-feedback .usa-alert")).to_be_visible()

    assert not console, "the console while filling in the request form:\n" + "\n".join(console)
