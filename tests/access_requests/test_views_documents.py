"""Supporting documents: uploaded to an open request, stored under generated names outside the static
root, and served only to people who may see the request (S3.5a)."""

import pytest
from conftest import file_request, make_pdf, messages_of, provisioned, stored_files
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from access_requests.models import AccessRequest, SupportingDocument

PDF = make_pdf()


@pytest.fixture
def private(tmp_path):
    return tmp_path / "private"


def _attach(client, request, name="signed.pdf", content=PDF, content_type="application/pdf"):
    upload = SimpleUploadedFile(name, content, content_type=content_type)
    return client.post(reverse("requests:attach", args=[request.pk]), {"document": upload})


def test_the_requester_attaches_a_signed_copy(city, client, private):
    request = file_request(city)
    client.force_login(city.requester)

    response = _attach(client, request)

    assert response.status_code == 302 and response.url == request.get_absolute_url()
    document = SupportingDocument.objects.get(request=request)
    assert (document.original_name, document.content_type, document.size) == ("signed.pdf", "application/pdf", len(PDF))
    assert stored_files(private) == [private / document.file.name]
    assert messages_of(response)[-1][0] == "success"


def test_attach_refuses_get(city, client):
    request = file_request(city)
    client.force_login(city.requester)

    assert client.get(reverse("requests:attach", args=[request.pk])).status_code == 405


def test_another_department_cannot_attach_and_gets_404(city, client, private):
    request = file_request(city)
    client.force_login(city.outsider)

    assert _attach(client, request).status_code == 404
    assert not SupportingDocument.objects.exists()
    assert stored_files(private) == []


def test_a_double_submitted_upload_is_stored_once(city, client, private):
    request = file_request(city)
    client.force_login(city.requester)
    _attach(client, request)

    _attach(client, request)

    assert SupportingDocument.objects.filter(request=request).count() == 1
    assert len(stored_files(private)) == 1


def test_documents_cannot_be_added_once_the_request_is_closed(city, client, private):
    request = provisioned(city)
    client.force_login(city.requester)

    response = _attach(client, request)

    assert not SupportingDocument.objects.exists()
    assert stored_files(private) == []
    assert messages_of(response)[-1][0] == "error"


def test_an_upload_over_the_size_limit_is_refused_and_nothing_is_stored(city, client, private, settings):
    settings.SUPPORTING_DOCUMENT_MAX_BYTES = len(PDF) - 1
    request = file_request(city)
    client.force_login(city.requester)

    response = _attach(client, request)

    assert not SupportingDocument.objects.exists()
    assert stored_files(private) == []
    level, text = messages_of(response)[-1]
    assert level == "error" and "limit" in text


@pytest.mark.parametrize("name, content", [
    ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64),
    ("memo.pdf", b"This is only text, whatever its name says.\n"),
])
def test_a_file_of_a_type_that_is_not_kept_is_refused_and_nothing_is_stored(city, client, private, name, content):
    request = file_request(city)
    client.force_login(city.requester)

    response = _attach(client, request, name=name, content=content)

    assert not SupportingDocument.objects.exists()
    assert stored_files(private) == []
    level, text = messages_of(response)[-1]
    assert level == "error" and "PDF, PNG or JPEG" in text


@pytest.fixture
def past_the_limit(settings):
    """A document limit of 64 KB, with every upload written to disk by the portal's handler, and a file past it."""
    settings.SUPPORTING_DOCUMENT_MAX_BYTES = 64 * 1024
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    return PDF + b"%" * (200 * 1024)


def test_a_file_past_the_limit_is_stopped_while_it_arrives_and_the_requester_is_told(city, client, private,
                                                                                     past_the_limit):
    request = file_request(city)
    client.force_login(city.requester)

    response = _attach(client, request, name="big scan.pdf", content=past_the_limit)

    assert response.status_code == 302
    assert not SupportingDocument.objects.exists()
    assert stored_files(private) == []
    assert messages_of(response)[-1] == ("error",
                                         "“big scan.pdf” is 200 KB; the limit is 64 KB. Upload a smaller scan.")


def test_a_file_past_the_limit_stops_the_filing_with_an_error_on_the_form(city, client, private, past_the_limit):
    client.force_login(city.requester)
    data = {
        "department": city.police.pk, "person": city.officer.pk, "system": city.vms.pk, "action": "add",
        "role": "end_user", "permissible_uses": [city.crime_detection.pk],
        "justification": "Reviews footage for the burglary unit.",
        "condition_statement": "Case 26-001234, an active investigation, until the case closes.",
        "documents": [SimpleUploadedFile("big scan.pdf", past_the_limit)],
    }

    response = client.post(reverse("requests:new"), data)

    assert response.status_code == 200
    assert not AccessRequest.objects.exists()
    assert stored_files(private) == []
    assert "the limit is 64 KB" in response.content.decode()


def test_a_pdf_carrying_another_file_is_refused_with_a_message(city, client, private):
    request = file_request(city)
    client.force_login(city.requester)
    carrying = make_pdf(lambda writer: writer.add_attachment("payload.exe", b"MZ"))

    response = _attach(client, request, content=carrying)

    assert not SupportingDocument.objects.exists()
    assert stored_files(private) == []
    level, text = messages_of(response)[-1]
    assert level == "error" and "active content" in text


def test_a_pdf_named_as_a_program_is_refused_with_the_types_the_portal_keeps(city, client, private):
    request = file_request(city)
    client.force_login(city.requester)

    response = _attach(client, request, name="invoicefdp.exe")

    assert not SupportingDocument.objects.exists()
    assert stored_files(private) == []
    level, text = messages_of(response)[-1]
    assert level == "error" and "PDF (.pdf), PNG (.png), JPEG (.jpg, .jpeg)" in text


def test_a_document_kept_under_a_program_name_downloads_under_the_name_of_its_type(city, client):
    """A row kept before names were checked against content: served as what it is, to be saved, never opened."""
    request = file_request(city, documents=[SimpleUploadedFile("invoice.pdf", PDF)])
    SupportingDocument.objects.filter(request=request).update(original_name="invoicefdp.exe")
    client.force_login(city.head)

    response = client.get(request.documents.get().get_absolute_url())

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == 'attachment; filename="invoicefdp.pdf"'


def test_a_hidden_file_name_is_refused(city, client, private):
    request = file_request(city)
    client.force_login(city.requester)

    response = _attach(client, request, name=".htaccess.pdf")

    assert not SupportingDocument.objects.exists()
    assert stored_files(private) == []
    assert messages_of(response)[-1][0] == "error"


def test_a_name_that_tries_to_leave_the_folder_is_stored_under_a_generated_name(city, client, private):
    request = file_request(city)
    client.force_login(city.requester)

    _attach(client, request, name="../../../outside.pdf")

    document = SupportingDocument.objects.get(request=request)
    assert "/" not in document.original_name and ".." not in document.original_name
    stored = stored_files(private)
    assert len(stored) == 1 and stored[0].is_relative_to(private)
    assert "outside" not in stored[0].name


def test_the_head_downloads_a_document_as_an_attachment(city, client):
    request = file_request(city)
    client.force_login(city.requester)
    _attach(client, request, name="Signed copy.pdf")
    document = SupportingDocument.objects.get(request=request)
    client.force_login(city.head)

    response = client.get(reverse("requests:document", args=[request.pk, document.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "Signed copy.pdf" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == PDF


def test_itsa_downloads_the_documents_of_an_approved_request(city, client):
    """S3.5a: approved requests reach ITSA with all their supporting documents."""
    request = file_request(city, by=city.head, documents=[SimpleUploadedFile("memo.pdf", PDF)])
    document = request.documents.get()
    client.force_login(city.itsa)

    response = client.get(document.get_absolute_url())

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF


@pytest.mark.parametrize("who", ["outsider", "streets_worker", "officer"])
def test_a_document_of_another_department_answers_404(city, client, who):
    request = file_request(city, documents=[SimpleUploadedFile("memo.pdf", PDF)])
    document = request.documents.get()
    client.force_login(getattr(city, who))

    assert client.get(document.get_absolute_url()).status_code == 404


def test_a_document_asked_for_through_another_request_answers_404(city, client):
    first = file_request(city, documents=[SimpleUploadedFile("memo.pdf", PDF)])
    second = file_request(city, person=city.analyst)
    client.force_login(city.head)

    response = client.get(reverse("requests:document", args=[second.pk, first.documents.get().pk]))

    assert response.status_code == 404


def test_documents_are_not_downloaded_by_post(city, client):
    request = file_request(city, documents=[SimpleUploadedFile("memo.pdf", PDF)])
    client.force_login(city.head)

    assert client.post(request.documents.get().get_absolute_url()).status_code == 405
