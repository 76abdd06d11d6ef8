"""Reflow (WCAG 1.4.10): at 320 px wide no page scrolls sideways, and every action stays reachable:
on the page, or in a table that scrolls inside its own container. At 1,280 px nothing is hidden
either. The dashboard, the ITSA queue, a validation and the request form, each with an axe scan."""

import pytest
from conftest import PASSWORD, file_request, provisioned

from browser_helpers import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAYOUT = """() => {
  const width = window.innerWidth;
  const controls = [...document.querySelectorAll('main a, main button, main input:not([type=hidden]), main select, main textarea, main summary')]
    .filter(e => e.offsetParent !== null);
  const cut = controls.filter(e => {
    const box = e.getBoundingClientRect();
    // Far to the left is the design system's way of hiding a thing visually (for screen readers).
    return box.right > width + 1 && !e.closest('.usa-table-container--scrollable');
  }).map(e => `${e.tagName} “${(e.innerText || e.name || '').trim().slice(0, 40)}” at ${Math.round(e.getBoundingClientRect().right)}`);
  return {pageWidth: document.documentElement.scrollWidth, width, controls: controls.length, cut};
}"""


@pytest.fixture
def pages(city):
    from audits.services import user_audit_open

    provisioned(city, person=city.officer)
    file_request(city, person=city.analyst)
    validation = user_audit_open(by=city.itsa, department=city.police)
    return [(city.itsa, "/", "ITSA's dashboard"), (city.itsa, "/requests/queue/", "the ITSA queue"),
            (city.head, "/", "the head's dashboard"), (city.head, f"/validations/{validation.pk}/", "a validation"),
            (city.requester, "/requests/new/", "the request form")]


@pytest.mark.parametrize("width", [320, 1280])
def test_no_page_scrolls_sideways_and_every_action_is_reachable(page, city, pages, width):
    page.set_viewport_size({"width": width, "height": 800})
    signed_in = None
    for person, url, what in pages:
        if person != signed_in:
            sign_in(page, person, PASSWORD)
            signed_in = person
        page.goto(url)
        layout = page.evaluate(LAYOUT)
        assert layout["pageWidth"] <= width, f"{what} is {layout['pageWidth']} px wide at {width} px"
        assert not layout["cut"], f"{what} at {width} px cuts off: {layout['cut']}"
        assert layout["controls"] > 0
        if width == 320:
            assert_accessible(page, f"{what} at 320 px")
