"""The written access request as a PDF, made at submission and never changed afterwards (S3.4d)."""

import hashlib

import pytest
from conftest import file_request, pdf_text, provisioned
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError
from django.urls import reverse
from services import require_postgres

from access_requests.models import AccessRequest, WrittenRequest
from access_requests.services import access_request_approve
from accounts.models import User
from portal.errors import RuleViolation
from portal.models import AuditEvent
from portal.pdf import RenderFailed


def test_filing_keeps_a_pdf_of_who_asks_for_whom_which_system_role_uses_conditions_and_why(city):
    """S3.4d: the written request names the parties, the access, the Table 1 uses and their conditions."""
    request = file_request(city, uses=[city.crime_detection], justification="Review footage of case 2026-114.")

    written = WrittenRequest.objects.get(request=request)
    text = pdf_text(bytes(written.pdf))

    assert written.sha256 == hashlib.sha256(bytes(written.pdf)).hexdigest()
    for expected in (request.reference, city.police.name, city.requester.full_name, city.officer.full_name,
                     city.officer.email, city.vms.name, "End user", city.crime_detection.name,
                     city.crime_detection.intended_use.name, "Review footage of case 2026-114."):
        assert expected in text
    for condition in city.crime_detection.intended_use.condition_list():
        assert " ".join(condition.split()) in text
    assert "Requester: " + city.requester.full_name in text
    assert "Head of " + city.police.name in text


def test_the_stored_pdf_and_its_hash_do_not_change_whatever_is_edited_later(city):
    """S3.4d: approval, provisioning and later edits of the people leave the filed document as it was."""
    request = provisioned(city, justification="Patrol footage.")
    before = WrittenRequest.objects.get(request=request)
    original, fingerprint = bytes(before.pdf), before.sha256

    User.objects.filter(pk=city.officer.pk).update(full_name="Renamed Officer")
    AccessRequest.objects.filter(pk=request.pk).update(justification="Something else entirely.")

    after = WrittenRequest.objects.get(request=request)
    assert bytes(after.pdf) == original
    assert after.sha256 == fingerprint
    assert "Renamed Officer" not in pdf_text(original)
    assert "Patrol footage." in pdf_text(original)


def test_the_orm_refuses_to_change_or_delete_a_written_request(city):
    """S3.4d"""
    written = WrittenRequest.objects.get(request=file_request(city))
    written.sha256 = "0" * 64
    with pytest.raises(PermissionError):
        written.save()
    with pytest.raises(PermissionError):
        written.delete()
    with pytest.raises(PermissionError):
        WrittenRequest.objects.filter(pk=written.pk).update(sha256="0" * 64)
    with pytest.raises(PermissionError):
        WrittenRequest.objects.all().delete()


def test_on_postgresql_the_database_itself_refuses_to_rewrite_the_pdf(city):
    """S3.4d: a plain UPDATE from a database shell is refused by a trigger."""
    require_postgres()  # the trigger exists on PostgreSQL only
    request = file_request(city)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE access_requests_writtenrequest SET sha256 = %s WHERE request_id = %s",
                       ["0" * 64, request.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM access_requests_writtenrequest WHERE request_id = %s", [request.pk])
    assert WrittenRequest.objects.filter(request=request).exists()


def test_a_request_is_never_filed_without_its_document(city, settings):
    """S3.4d: when the PDF cannot be made in time, nothing is filed and the person is told why."""
    settings.PDF_RENDER_SECONDS = 0.000001
    before = AccessRequest.objects.count()

    with pytest.raises(RenderFailed) as refused:
        file_request(city)

    assert isinstance(refused.value, RuleViolation)
    assert "longer than" in str(refused.value)
    assert AccessRequest.objects.count() == before
    assert not WrittenRequest.objects.exists()


def test_the_page_shows_the_hash_and_the_download_gives_the_same_bytes(city, client):
    """S3.4d"""
    request = file_request(city)
    written = WrittenRequest.objects.get(request=request)
    client.force_login(city.requester)

    page = client.get(request.get_absolute_url()).content.decode()
    response = client.get(reverse("requests:written_pdf", args=[request.pk]))

    assert written.sha256 in page
    assert reverse("requests:written_pdf", args=[request.pk]) in page
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{request.reference}.pdf"' in response["Content-Disposition"]
    assert hashlib.sha256(response.content).hexdigest() == written.sha256
    assert AuditEvent.objects.filter(action="access_request.download", actor=city.requester,
                                     detail="written request (PDF)").exists()


def test_a_pdf_that_no_longer_matches_its_hash_is_not_served(city, client):
    """S3.4d: a stored file altered behind the portal's back is refused and the attempt recorded."""
    request = access_request_approve(request=file_request(city), by=city.head)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")  # the test plays the intruder
        cursor.execute("UPDATE access_requests_writtenrequest SET pdf = %s WHERE request_id = %s",
                       [b"%PDF-1.7 forged", request.pk])
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")
    client.force_login(city.itsa)

    response = client.get(reverse("requests:written_pdf", args=[request.pk]), follow=True)

    assert response.redirect_chain[-1][0] == request.get_absolute_url()
    assert response["Content-Type"].startswith("text/html")
    assert "does not match its fingerprint" in response.content.decode()
    assert AuditEvent.objects.filter(action="access_request.integrity_failed", outcome="denied").exists()


def test_another_department_gets_no_written_request(city, client):
    """S3.4d: the document is as private as the request."""
    request = file_request(city)
    client.force_login(city.outsider)
    assert client.get(reverse("requests:written_pdf", args=[request.pk])).status_code == 404


def test_the_written_request_refuses_post(city, client):
    request = file_request(city)
    client.force_login(city.requester)
    assert client.post(reverse("requests:written_pdf", args=[request.pk])).status_code == 405


def test_a_second_written_record_for_one_request_is_refused(city):
    """S3.4d: one document per request, made once."""
    request = file_request(city)
    with pytest.raises(IntegrityError), transaction.atomic():
        WrittenRequest.objects.create(request=request, pdf=b"%PDF-1.7", sha256="0" * 64)
