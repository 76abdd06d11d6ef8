"""ITSA makes an API token in Chromium, copies the secret shown once, and revokes it; anyone signed
in reads the API's documentation. Each page scanned with axe-core (S3.10, S3.6b)."""

import re

import pytest
from conftest import PASSWORD
from playwright.sync_api import expect

from api.models import ApiToken

from browser_helpers import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _confirm_password_if_asked(page, button: str) -> None:
    if page.get_by_label("Password").count():
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("button", name=button).click()


def test_itsa_makes_a_token_sees_its_secret_once_and_revokes_it(page, city):
    """S3.10"""
    sign_in(page, city.itsa, PASSWORD)
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", name="API tokens", exact=True)).to_be_visible()
    expect(page.get_by_text("No token has been made yet.")).to_be_visible()
    assert_accessible(page, "the token page")

    # Refused first: no scope chosen. The error is on the scopes' fieldset.
    page.get_by_label("Name").fill("LPR vendor sync")
    page.get_by_role("button", name="Make the token").click()
    expect(page.get_by_role("heading", name="The token was not made")).to_be_visible()
    expect(page.get_by_text("Choose what the token may do.")).to_be_visible()
    assert_accessible(page, "the refused form")

    page.get_by_label("Name").fill("LPR vendor sync")
    # The design system's check boxes are drawn on their labels: the label is what one clicks.
    page.locator("label.usa-checkbox__label", has_text=re.compile("^read")).click()
    page.locator("label.usa-checkbox__label", has_text=re.compile("^report_use")).click()
    expect(page.get_by_role("checkbox", name=re.compile("^report_use"))).to_be_checked()
    page.get_by_label("System (optional)").select_option(label=city.lpr.name)
    page.get_by_role("button", name="Make the token").click()
    _confirm_password_if_asked(page, "Make the token")

    expect(page.get_by_role("heading", name="Copy it now: it is not shown again")).to_be_visible()
    secret = page.get_by_label("Secret of “LPR vendor sync”").input_value()
    assert secret.startswith("sap_")
    row = page.locator(f"#token-{ApiToken.objects.get().pk}")
    expect(row.get_by_role("rowheader", name="LPR vendor sync")).to_be_visible()
    expect(row.get_by_text("Active")).to_be_visible()
    assert_accessible(page, "the page with the new secret")

    # Seen once: the page again shows the token, never its secret.
    page.goto("/integrations/tokens/")
    expect(page.get_by_role("heading", name="Copy it now: it is not shown again")).to_have_count(0)
    assert secret not in page.content()

    page.get_by_role("button", name="Revoke “LPR vendor sync”").click()
    _confirm_password_if_asked(page, "Revoke “LPR vendor sync”")
    expect(page.get_by_text("The token “LPR vendor sync” is revoked")).to_be_visible()
    expect(row.get_by_text("Revoked")).to_be_visible()
    expect(page.get_by_role("button", name="Revoke “LPR vendor sync”")).to_have_count(0)
    assert ApiToken.objects.get().revoked_by == city.itsa
    assert_accessible(page, "the page after revoking")


def test_the_api_documentation_lists_every_operation(page, city):
    """S3.6b"""
    sign_in(page, city.itsa, PASSWORD)
    page.get_by_role("link", name="API documentation").click()
    expect(page.get_by_role("heading", name="Surveillance Access Portal API")).to_be_visible()
    expect(page.get_by_role("heading", name="POST /api/v1/systems/{code}/uses/")).to_be_visible()
    expect(page.get_by_role("link", name="/api/v1/schema/")).to_be_visible()
    assert_accessible(page, "the API documentation")

    sign_in(page, city.officer, PASSWORD)
    page.goto("/integrations/api/")
    expect(page.get_by_role("heading", name="GET /api/v1/grants/", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="API tokens page")).to_have_count(0)
