"""Supporting documents (S3.5a) at the service level: what is refused stores nothing; what is kept
is stored under a generated name with its fingerprint."""

import hashlib
from pathlib import Path

import pytest
from conftest import file_request, make_pdf, stored_files
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf.generic import (
    ArrayObject, DictionaryObject, FloatObject, NameObject, NumberObject, TextStringObject,
)

from portal.errors import NotAllowed, RuleViolation
from access_requests.models import AccessRequest, SupportingDocument
from access_requests.services import access_request_withdraw, document_attach

PDF = make_pdf()
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


@pytest.fixture
def storage_root(settings):
    return Path(settings.STORAGES["default"]["OPTIONS"]["location"])


BAD_UPLOADS = {
    "too big": lambda: SimpleUploadedFile("scan.pdf", PDF + b"0" * 2048, content_type="application/pdf"),
    "plain text": lambda: SimpleUploadedFile("memo.pdf", b"just some words\n", content_type="application/pdf"),
    "a Windows program": lambda: SimpleUploadedFile("memo.pdf", b"MZ\x90\x00" + b"\x00" * 200,
                                                    content_type="application/pdf"),
    "empty": lambda: SimpleUploadedFile("empty.pdf", b"", content_type="application/pdf"),
    "a parent-folder name": lambda: ContentFile(PDF, name="../../etc/memo.pdf"),
    "a name with a slash": lambda: ContentFile(PDF, name="sub/memo.pdf"),
    "a name with a backslash": lambda: ContentFile(PDF, name="..\\memo.pdf"),
    "a hidden-file name": lambda: SimpleUploadedFile(".htaccess", PDF, content_type="application/pdf"),
}


@pytest.fixture
def small_limit(settings):
    settings.SUPPORTING_DOCUMENT_MAX_BYTES = 1024


@pytest.mark.parametrize("kind", list(BAD_UPLOADS))
def test_a_bad_upload_attached_to_a_request_is_refused_and_nothing_is_stored(city, storage_root, small_limit, kind):
    """S3.5a"""
    request = file_request(city)

    with pytest.raises(RuleViolation) as refusal:
        document_attach(request=request, upload=BAD_UPLOADS[kind](), by=city.requester)

    assert refusal.value.field == "documents"
    assert not SupportingDocument.objects.exists()
    assert stored_files(storage_root) == []


@pytest.mark.parametrize("kind", list(BAD_UPLOADS))
def test_a_bad_upload_filed_with_a_request_refuses_the_request_and_stores_nothing(city, storage_root, small_limit,
                                                                                  kind):
    """S3.4d S3.5a: the request is not filed without its documents."""
    with pytest.raises(RuleViolation):
        file_request(city, documents=[SimpleUploadedFile("signed.pdf", PDF), BAD_UPLOADS[kind]()])

    assert not AccessRequest.objects.exists()
    assert not SupportingDocument.objects.exists()
    assert stored_files(storage_root) == []


def test_a_pdf_is_stored_under_a_generated_name_with_its_fingerprint(city, storage_root):
    """S3.5a"""
    request = file_request(city)

    document = document_attach(request=request, upload=SimpleUploadedFile("Signed copy.pdf", PDF), by=city.requester)

    assert document.original_name == "Signed copy.pdf"
    assert document.content_type == "application/pdf"
    assert document.size == len(PDF)
    assert document.sha256 == hashlib.sha256(PDF).hexdigest()
    assert document.uploaded_by == city.requester
    assert "Signed" not in document.file.name and ".pdf" not in document.file.name
    assert document.file.name.startswith(f"requests/{request.pk}/")
    stored = stored_files(storage_root)
    assert len(stored) == 1 and stored[0].read_bytes() == PDF
    assert storage_root in stored[0].parents


def test_documents_filed_with_a_request_are_kept_with_it(city, storage_root):
    """S3.4d S3.5a"""
    request = file_request(city, documents=[SimpleUploadedFile("signed.pdf", PDF), SimpleUploadedFile("id.png", PNG)])

    documents = list(request.documents.all())
    assert [(d.original_name, d.content_type) for d in documents] == [
        ("signed.pdf", "application/pdf"), ("id.png", "image/png"),
    ]
    assert {d.sha256 for d in documents} == {hashlib.sha256(PDF).hexdigest(), hashlib.sha256(PNG).hexdigest()}
    assert len(stored_files(storage_root)) == 2


def test_two_uploads_with_the_same_name_are_stored_apart(city, storage_root):
    """S3.5a: generated names never collide or overwrite."""
    request = file_request(city)

    first = document_attach(request=request, upload=SimpleUploadedFile("scan.pdf", PDF), by=city.requester)
    second = document_attach(request=request, upload=SimpleUploadedFile("scan.pdf", PDF + b"%2"), by=city.requester)

    assert first.file.name != second.file.name
    assert len(stored_files(storage_root)) == 2


def test_a_file_exactly_at_the_limit_is_accepted(city, settings):
    """S3.5a"""
    settings.SUPPORTING_DOCUMENT_MAX_BYTES = len(PDF)
    request = file_request(city)

    document = document_attach(request=request, upload=SimpleUploadedFile("scan.pdf", PDF), by=city.requester)

    assert document.size == len(PDF)


def test_someone_outside_the_department_cannot_attach_a_document(city, storage_root):
    """S3.3 S3.5a"""
    request = file_request(city)

    for actor in (city.outsider, city.officer, city.itsa):
        with pytest.raises(NotAllowed):
            document_attach(request=request, upload=SimpleUploadedFile("scan.pdf", PDF), by=actor)

    assert not SupportingDocument.objects.exists()
    assert stored_files(storage_root) == []


def test_a_document_cannot_be_attached_to_a_closed_request(city, storage_root):
    """S3.5a"""
    request = file_request(city)
    access_request_withdraw(request=request, by=city.requester)

    with pytest.raises(NotAllowed):
        document_attach(request=request, upload=SimpleUploadedFile("scan.pdf", PDF), by=city.requester)

    assert stored_files(storage_root) == []


def _pdf_dict(**entries) -> DictionaryObject:
    return DictionaryObject({NameObject(f"/{key}"): value for key, value in entries.items()})


def _set(target, key: str, value) -> None:
    target[NameObject(f"/{key}")] = value


def _script():
    return _pdf_dict(Type=NameObject("/Action"), S=NameObject("/JavaScript"),
                     JS=TextStringObject("app.launchURL('https://attacker.example/');"))


LAUNCH = _pdf_dict(S=NameObject("/Launch"), F=TextStringObject("cmd.exe"))


def _link_on_page(writer, action) -> None:
    link = _pdf_dict(Type=NameObject("/Annot"), Subtype=NameObject("/Link"), A=action,
                     Rect=ArrayObject([NumberObject(0), NumberObject(0), NumberObject(100), NumberObject(100)]))
    _set(writer.pages[0], "Annots", ArrayObject([writer._add_object(link)]))


def _web_link(**more):
    return _pdf_dict(S=NameObject("/URI"), URI=TextStringObject("https://city.example/"), **more)


ACTIVE_PDFS = {
    "a document-level script": lambda w: _set(w._root_object, "Names", _pdf_dict(
        JavaScript=_pdf_dict(Names=ArrayObject([TextStringObject("hello"), w._add_object(_script())])))),
    "a script run when it opens": lambda w: _set(w._root_object, "OpenAction", w._add_object(_script())),
    "a program launched when it opens": lambda w: _set(w._root_object, "OpenAction", LAUNCH),
    "a page that runs a script when shown": lambda w: _set(w.pages[0], "AA", _pdf_dict(O=w._add_object(_script()))),
    "a link that launches a program": lambda w: _link_on_page(w, LAUNCH),
    "a web link whose next action is a script": lambda w: _link_on_page(w, _web_link(Next=w._add_object(_script()))),
    "an embedded file": lambda w: w.add_attachment("invoice.exe", b"MZ\x90\x00"),
    "an XFA form": lambda w: _set(w._root_object, "AcroForm", _pdf_dict(
        Fields=ArrayObject(), XFA=TextStringObject("<xdp:xdp/>"))),
}


@pytest.mark.parametrize("kind", list(ACTIVE_PDFS))
def test_a_pdf_with_active_content_is_refused_and_nothing_is_stored(city, storage_root, kind):
    """S3.5a"""
    request = file_request(city)

    with pytest.raises(RuleViolation) as refusal:
        document_attach(request=request, upload=SimpleUploadedFile("memo.pdf", make_pdf(ACTIVE_PDFS[kind])),
                        by=city.requester)

    assert "active content" in refusal.value.message and refusal.value.field == "documents"
    assert not SupportingDocument.objects.exists()
    assert stored_files(storage_root) == []


def test_a_pdf_with_active_content_stops_the_filing(city, storage_root):
    """S3.4d S3.5a"""
    with pytest.raises(RuleViolation, match="active content"):
        file_request(city, documents=[SimpleUploadedFile("memo.pdf", make_pdf(ACTIVE_PDFS["an embedded file"]))])

    assert not AccessRequest.objects.exists()
    assert stored_files(storage_root) == []


def test_a_pdf_that_cannot_be_parsed_is_refused(city, storage_root):
    request = file_request(city)
    broken = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

    with pytest.raises(RuleViolation, match="cannot be read as a PDF"):
        document_attach(request=request, upload=SimpleUploadedFile("memo.pdf", broken), by=city.requester)

    assert stored_files(storage_root) == []


def test_a_pdf_locked_with_a_password_is_refused(city, storage_root):
    request = file_request(city)
    locked = make_pdf(lambda w: w.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128"))

    with pytest.raises(RuleViolation, match="password"):
        document_attach(request=request, upload=SimpleUploadedFile("memo.pdf", locked), by=city.requester)

    assert stored_files(storage_root) == []


def test_a_pdf_that_opens_at_its_first_page_and_links_to_a_web_page_is_kept(city):
    """Office suites write an /OpenAction that only goes to a page; a memo may carry links."""
    def dress(writer):
        page = writer.pages[0].indirect_reference
        _set(writer._root_object, "OpenAction",
             ArrayObject([page, NameObject("/XYZ"), FloatObject(0), FloatObject(792), FloatObject(0)]))
        _link_on_page(writer, _web_link())
    request = file_request(city)

    document = document_attach(request=request, upload=SimpleUploadedFile("memo.pdf", make_pdf(dress)),
                               by=city.requester)

    assert document.content_type == "application/pdf"


@pytest.mark.parametrize("name, content", [
    ("invoicefdp.exe", PDF),
    ("scan", PDF),
    ("memo.pdf.exe", PDF),
    ("photo.png", JPEG),
    ("photo.jpg", PNG),
    ("memo.png", PDF),
])
def test_a_name_that_does_not_end_as_its_content_type_is_refused(city, storage_root, name, content):
    """The name travels with the file: `invoicefdp.exe` must not reach ITSA as a PDF."""
    request = file_request(city)

    with pytest.raises(RuleViolation) as refusal:
        document_attach(request=request, upload=SimpleUploadedFile(name, content), by=city.requester)

    assert f"“{name}”" in refusal.value.message
    assert "PDF (.pdf), PNG (.png), JPEG (.jpg, .jpeg)" in refusal.value.message
    assert not SupportingDocument.objects.exists()
    assert stored_files(storage_root) == []


@pytest.mark.parametrize("name, content, content_type", [
    ("SCAN.PDF", PDF, "application/pdf"),
    ("photo.jpeg", JPEG, "image/jpeg"),
    ("Photo.JPG", JPEG, "image/jpeg"),
    ("badge.png", PNG, "image/png"),
])
def test_a_name_that_ends_as_its_content_type_is_kept_whatever_its_case(city, name, content, content_type):
    request = file_request(city)

    document = document_attach(request=request, upload=SimpleUploadedFile(name, content), by=city.requester)

    assert (document.original_name, document.content_type) == (name, content_type)
