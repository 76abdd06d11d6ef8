"""No cache keeps what a signed-in person sees (portal.headers.NoStoreWhenSignedInMiddleware); the
public pages an anonymous visitor reads keep their caching."""

import pytest
from conftest import file_request, make_pdf
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse


def _directives(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


@pytest.mark.parametrize("url", [reverse("home"), reverse("requests:list"), reverse("audit_log_export")])
def test_every_page_a_signed_in_person_sees_is_no_store(city, client, url):
    client.force_login(city.itsa)

    response = client.get(url)

    assert response.status_code == 200
    assert "no-store" in _directives(response)


def test_a_supporting_document_downloaded_by_a_signed_in_person_is_no_store(city, client):
    request = file_request(city, by=city.head, documents=[SimpleUploadedFile("memo.pdf", make_pdf())])
    client.force_login(city.head)

    response = client.get(request.documents.get().get_absolute_url())

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in _directives(response)


def test_the_transparency_page_of_a_signed_in_person_stays_private_and_is_not_stored(city, client):
    client.force_login(city.officer)

    response = client.get(reverse("transparency:index"))

    assert _directives(response) == {"private", "no-store"}


def test_the_transparency_page_keeps_its_public_caching_for_an_anonymous_visitor(city):
    response = Client().get(reverse("transparency:index"))

    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=300"
