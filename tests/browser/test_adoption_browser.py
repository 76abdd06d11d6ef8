"""ITSA brings a city in through the import page, in Chromium: upload the four files, read the
preview row by row, confirm, and see the result; each step scanned with axe-core (S3.5b)."""

from pathlib import Path

import pytest
from conftest import PASSWORD
from django.conf import settings
from playwright.sync_api import expect

from accounts.models import Grant
from adoption.models import Upload
from adoption.services import FILES

from browser_helpers import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAMPLES = Path(settings.BASE_DIR) / "docs" / "samples" / "adoption"
LABELS = {"departments.csv": "Departments", "people.csv": "People", "systems.csv": "Surveillance systems",
          "accounts.csv": "Accounts on the systems"}


def _choose_files(page, folder: Path) -> None:
    for name in FILES:
        page.get_by_label(LABELS[name]).set_input_files(str(folder / name))


def test_itsa_previews_and_imports_a_city(page, city):
    sign_in(page, city.itsa, PASSWORD)
    page.get_by_role("link", name="Bring records in").click()
    expect(page.get_by_role("heading", name="Bring a city's records in")).to_be_visible()
    assert_accessible(page, "the import page")

    _choose_files(page, SAMPLES)
    page.get_by_role("button", name="Upload and check").click()
    # The check runs as the upload commits (tasks run in this process here); the page shows its result.
    expect(page.get_by_role("heading", name="What the import would do")).to_be_visible()
    expect(page.get_by_role("cell", name="account iinspector on fire-vms")).to_be_visible()
    assert Grant.objects.filter(account_name="iinspector").count() == 0
    assert_accessible(page, "the preview")

    page.get_by_role("button", name="Import").click()
    if page.get_by_label("Password").count():  # the import asks for the password again
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", name="Imported", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Fire Department")).to_be_visible()
    assert Upload.objects.get().status == Upload.Status.IMPORTED
    assert Grant.objects.filter(account_name="iinspector").count() == 1
    assert_accessible(page, "the import's result")


def test_a_refused_row_is_shown_with_its_line_and_reason(page, city, tmp_path):
    for name in FILES:
        (tmp_path / name).write_bytes((SAMPLES / name).read_bytes())
    with (tmp_path / "accounts.csv").open("a") as accounts:
        accounts.write("fire-vms,E1002,cap,end_user,nowhere,building-protection,\n")

    sign_in(page, city.itsa, PASSWORD)
    page.goto("/import/")
    _choose_files(page, tmp_path)
    page.get_by_role("button", name="Upload and check").click()

    expect(page.get_by_role("heading", name="1 row refused: nothing can be imported")).to_be_visible()
    expect(page.get_by_role("rowheader", name="accounts.csv:5")).to_be_visible()
    expect(page.get_by_text("Unknown department “nowhere”.")).to_be_visible()
    expect(page.get_by_role("button", name="Import")).to_have_count(0)
    assert_accessible(page, "a preview with a refused row")
