"""The ITSA queue: approved requests with all their supporting documents, oldest first (S3.5a)."""

import pytest
from conftest import file_request, make_pdf
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from portal.models import AuditEvent
from access_requests.models import AccessRequest, SupportingDocument

PDF = make_pdf()


def _approved_rows(city, count):
    """Approved requests written straight to the database, two documents each: only the list is under test."""
    people = User.objects.bulk_create(
        User(email=f"person{i}@police.example", full_name=f"Person {i:03d}", department=city.police)
        for i in range(count)
    )
    now = timezone.now()
    requests = AccessRequest.objects.bulk_create(
        AccessRequest(
            reference=f"AR-TEST-{i:05d}", department=city.police, person=person, system=city.vms, action="add",
            role="end_user", justification="Patrol.", written_text="Patrol.", written_sha256="0" * 64,
            status=AccessRequest.Status.WITH_ITSA, requested_by=city.requester, submitted_at=now,
            approved_by=city.head, approved_at=now,
        )
        for i, person in enumerate(people)
    )
    SupportingDocument.objects.bulk_create(
        SupportingDocument(request=request, file=f"requests/{request.pk}/{n}", original_name=f"doc-{n}.pdf",
                           content_type="application/pdf", size=10, sha256="0" * 64, uploaded_by=city.requester)
        for request in requests for n in range(2)
    )
    return requests


def test_itsa_sees_approved_requests_oldest_first_with_their_documents(city, client):
    """S3.5a"""
    first = file_request(city, by=city.head, documents=[SimpleUploadedFile("signed.pdf", PDF)])
    second = file_request(city, by=city.head, person=city.analyst)
    waiting = file_request(city, person=city.requester, by=city.requester)
    client.force_login(city.itsa)

    response = client.get(reverse("requests:queue"))

    assert response.status_code == 200
    page = response.content.decode()
    assert page.index(first.reference) < page.index(second.reference)
    assert waiting.reference not in page
    assert first.documents.get().get_absolute_url() in page
    assert city.head.full_name in page


def test_the_queue_searches_by_person(city, client):
    first = file_request(city, by=city.head)
    second = file_request(city, by=city.head, person=city.analyst)
    client.force_login(city.itsa)

    page = client.get(reverse("requests:queue"), {"q": "analyst"}).content.decode()

    assert second.reference in page and first.reference not in page


@pytest.mark.parametrize("who", ["head", "requester", "designee", "outsider", "officer"])
def test_the_queue_is_itsas_alone(city, client, who):
    """S3.5b"""
    file_request(city, by=city.head)
    client.force_login(getattr(city, who))

    assert client.get(reverse("requests:queue")).status_code == 404
    assert AuditEvent.objects.filter(actor=getattr(city, who), action="itsa_queue.view", outcome="denied").exists()


@pytest.mark.parametrize("rows", [10, 40])
def test_the_queue_runs_the_same_number_of_queries_whatever_the_number_of_rows(
    city, client, settings, django_assert_max_num_queries, rows
):
    settings.PAGE_SIZE = 50
    requests = _approved_rows(city, rows)
    client.force_login(city.itsa)

    with django_assert_max_num_queries(10):
        response = client.get(reverse("requests:queue"))

    assert response.status_code == 200
    assert response.content.decode().count("doc-1.pdf") == len(requests)
