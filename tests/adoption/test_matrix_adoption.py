"""Every URL of ITSA's import page (adoption) × every role.

Each cell says what the role gets: "ok" (the page, or the change is made), "404" (the page does not
exist for them), "login" (anonymous: sent to sign in), "refused" (they see the page but the service
refuses the change: nothing in the database changes). ITSA imports (S3.5b); oversight reads the
uploads and changes nothing (S3.2a); nobody else sees the page.
"""

from pathlib import Path

import pytest
from conftest import build_city, signed_in_client
from matrix import check_cell, url_case
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Grant
from adoption.models import Upload
from adoption.services import FILES
from adoption.uploads import upload_check, upload_stage

ROLES = ["anonymous", "head", "requester", "officer", "outsider", "itsa", "designee", "auditor"]
SAMPLES = Path(settings.BASE_DIR) / "docs" / "samples" / "adoption"


def _files() -> dict:
    return {name: (SAMPLES / name).read_bytes() for name in FILES}


def _form(w) -> dict:
    return {name.removesuffix(".csv"): SimpleUploadedFile(name, content, content_type="text/csv")
            for name, content in _files().items()}


class World:
    def __init__(self, city):
        self.city = city
        # Checked and ready to import (the check is the worker's, run here at once).
        self.checked = upload_check(upload_id=upload_stage(files=_files(), by=city.itsa).pk)


def snapshot():
    return sorted(Upload.objects.values_list("pk", "status")), Grant.objects.count()


READERS = {"itsa": "ok", "auditor": "ok", "head": "404", "requester": "404", "officer": "404", "outsider": "404",
           "designee": "404"}
ITSA_CHANGES = {**READERS, "auditor": "refused"}

CASES = [
    url_case("adoption:index", "get", lambda w: {}, READERS),
    url_case("adoption:index", "post", lambda w: {}, ITSA_CHANGES, data=_form),
    url_case("adoption:upload", "get", lambda w: {"pk": w.checked.pk}, READERS),
    url_case("adoption:upload_report", "get", lambda w: {"pk": w.checked.pk}, READERS),
    url_case("adoption:upload_import", "post", lambda w: {"pk": w.checked.pk}, ITSA_CHANGES),
]

CELLS = [
    pytest.param(case, role, id=f"{case['method'].upper()} {case['name']} #{index} as {role}")
    for index, case in enumerate(CASES)
    for role in ROLES
]


def build_world():
    return World(build_city())


def _login(client, world, role):
    if role != "anonymous":
        client.force_login(getattr(world.city, role))


@pytest.mark.parametrize(("case", "role"), CELLS)
def test_each_role_gets_exactly_what_the_adoption_matrix_says(case, role, city, world):
    """S3.5b, S3.2a: only ITSA imports; oversight reads; nobody else sees the import."""
    client = signed_in_client()
    _login(client, world, role)
    check_cell(client, case, role, world, snapshot)


def test_the_import_answers_get_with_405(city, world):
    client = signed_in_client()
    _login(client, world, "itsa")
    assert client.get(reverse("adoption:upload_import", kwargs={"pk": world.checked.pk})).status_code == 405


@pytest.mark.parametrize("name", ["adoption:upload", "adoption:upload_report", "adoption:upload_import"])
def test_unknown_uploads_answer_404(name, city, world):
    client = signed_in_client()
    _login(client, world, "itsa")
    url = reverse(name, kwargs={"pk": 987654})
    response = client.post(url) if name == "adoption:upload_import" else client.get(url)
    assert response.status_code == 404


def test_the_upload_and_the_import_need_a_csrf_token(city, world):
    client = signed_in_client(enforce_csrf_checks=True)
    _login(client, world, "itsa")
    before = snapshot()
    assert client.post(reverse("adoption:index"), _form(world)).status_code == 403
    assert client.post(reverse("adoption:upload_import", kwargs={"pk": world.checked.pk})).status_code == 403
    assert snapshot() == before
