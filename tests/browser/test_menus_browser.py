"""The primary navigation at 1,280 px: every role's menu and the portal's name each fit one line,
and the grouped menus open and lead where they say."""

import pytest
from conftest import PASSWORD, make_directors
from playwright.sync_api import expect

from browser_helpers import assert_accessible, go_by_menu, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ONE_LINE = """() => {
  const items = [...document.querySelectorAll('.usa-nav__primary > li')].map(li => li.getBoundingClientRect());
  const logo = document.querySelector('.usa-logo__text').getBoundingClientRect();
  const lineHeight = parseFloat(getComputedStyle(document.querySelector('.usa-logo__text')).lineHeight) || 24;
  return {tops: items.map(r => Math.round(r.top)), logoLines: Math.round(logo.height / lineHeight),
          pageWider: document.documentElement.scrollWidth > window.innerWidth};
}"""


@pytest.mark.parametrize("role", ["head", "officer", "itsa", "designee", "auditor", "director"])
def test_every_roles_menu_fits_one_line_at_1280_px(page, city, role):
    page.set_viewport_size({"width": 1280, "height": 800})
    person = make_directors().safety if role == "director" else getattr(city, role)
    sign_in(page, person, PASSWORD)
    layout = page.evaluate(ONE_LINE)
    assert len(set(layout["tops"])) == 1, f"the {role}'s menu wraps: item tops {layout['tops']}"
    assert layout["logoLines"] == 1, f"the portal's name takes {layout['logoLines']} lines"
    assert not layout["pageWider"]


def test_itsa_reaches_its_work_through_the_grouped_menus(page, city):
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, city.itsa, PASSWORD)
    go_by_menu(page, "Access", "ITSA queue")
    expect(page.get_by_role("heading", level=1)).to_contain_text("ITSA queue")
    page.get_by_role("navigation", name="Primary navigation").get_by_role("button", name="Administration").click()
    assert_accessible(page, "ITSA's Administration menu open")
    page.get_by_role("navigation", name="Primary navigation").get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
