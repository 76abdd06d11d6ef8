"""A grant brought in by the import says so on its page, with the import's date and importer."""

import shutil
from pathlib import Path

from django.conf import settings
from django.urls import reverse

from accounts.models import Department, Grant
from adoption.services import import_apply, import_plan

SAMPLES = Path(settings.BASE_DIR) / "docs" / "samples" / "adoption"


def test_an_imported_grant_is_marked_existing_at_adoption_on_its_page(city, client, tmp_path):
    shutil.copytree(SAMPLES, tmp_path / "city")
    batch = import_apply(import_plan(tmp_path / "city"), by=city.itsa).batch
    imported = Grant.objects.get(account_name="iinspector")
    client.force_login(city.itsa)

    page = client.get(reverse("accounts:grant", args=[imported.pk])).content.decode()

    assert "Existing at adoption (import of" in page and f"by {batch.imported_by}" in page
    fire = Department.objects.get(code="fire")
    assert fire.head.employee_id == "E1001"


def test_a_grant_made_in_the_portal_is_not_marked(city, client):
    from conftest import provisioned

    grant = provisioned(city, person=city.officer).grant
    client.force_login(city.head)
    page = client.get(reverse("accounts:grant", args=[grant.pk])).content.decode()
    assert "Existing at adoption" not in page
