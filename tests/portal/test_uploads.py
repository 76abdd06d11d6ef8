"""Upload limits applied while the body arrives (portal.uploads): an oversize body is refused unread,
and a file that passes the document limit stops being kept."""

from io import BytesIO

import pytest
from conftest import file_request
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.test import Client, RequestFactory
from django.urls import reverse

from access_requests.models import SupportingDocument
from portal.uploads import TooLargeUpload

MB = 1024 * 1024


class CountingInput(BytesIO):
    """A request body that counts how much of it was read."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def readline(self, size=-1):
        line = super().readline(size)
        self.bytes_read += len(line)
        return line


def _post_declaring(client, url, *, declared: int, body: bytes = b"x" * 4096, **extra):
    """A post that says it carries `declared` bytes and sends only `body`: a server that waited for
    the rest would hang; one that read what came would count it on the returned stream."""
    stream = CountingInput(body)
    environ = {"CONTENT_LENGTH": str(declared), "wsgi.input": stream, **extra}
    response = client.generic("POST", url, body, content_type="multipart/form-data; boundary=upload-boundary",
                              **environ)
    return response, stream


def test_a_signed_in_post_declaring_200_mb_is_refused_with_413_before_its_body_is_read(city, client):
    request = file_request(city)
    client.force_login(city.requester)

    response, stream = _post_declaring(client, reverse("requests:attach", args=[request.pk]), declared=200 * MB)

    assert response.status_code == 413
    assert stream.bytes_read == 0
    page = response.content.decode()
    assert "Upload too large" in page and "11.0\xa0MB" in page and "10.0\xa0MB" in page
    assert not SupportingDocument.objects.exists()


def test_an_anonymous_post_with_a_csrf_cookie_is_refused_the_same_way(db):
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = "a" * 32

    for url in (reverse("login"), reverse("requests:attach", args=[1])):
        response, stream = _post_declaring(client, url, declared=200 * MB)

        assert response.status_code == 413, url
        assert stream.bytes_read == 0, url


def test_a_body_sent_without_its_length_is_refused_unread(city, client):
    """Chunked: Django would read it as empty, whatever its size."""
    request = file_request(city)
    client.force_login(city.requester)

    response, stream = _post_declaring(client, reverse("requests:attach", args=[request.pk]), declared=0,
                                       CONTENT_LENGTH="", HTTP_TRANSFER_ENCODING="chunked")

    assert response.status_code == 411
    assert stream.bytes_read == 0
    assert not SupportingDocument.objects.exists()


def test_a_body_at_the_limit_goes_through(city, client, settings):
    settings.REQUEST_MAX_BYTES = 64 * 1024
    client.force_login(city.requester)
    body = b"justification=" + b"x" * (settings.REQUEST_MAX_BYTES - len(b"justification="))

    response = client.post(reverse("requests:new"), body, content_type="application/x-www-form-urlencoded")

    assert len(body) == settings.REQUEST_MAX_BYTES
    assert response.status_code == 200  # the form, with its errors: read and answered


def _parsed_files(content: bytes):
    request = RequestFactory().post("/", {"document": SimpleUploadedFile("scan.pdf", content)})
    return request.FILES


@pytest.fixture
def on_disk(settings, tmp_path):
    """Every upload goes through the handler that writes to disk, into a folder the test can watch."""
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    settings.SUPPORTING_DOCUMENT_MAX_BYTES = 64 * 1024
    return tmp_path


def test_a_file_past_the_document_limit_is_not_kept(on_disk):
    files = _parsed_files(b"%PDF-" + b"0" * (300 * 1024))

    upload = files["document"]
    assert isinstance(upload, TooLargeUpload)
    assert (upload.name, upload.size) == ("scan.pdf", 5 + 300 * 1024)
    assert upload.read() == b""
    assert list(on_disk.iterdir()) == []


def test_a_file_within_the_document_limit_is_kept_on_disk_whole(on_disk):
    content = b"%PDF-" + b"0" * (64 * 1024 - 5)

    upload = _parsed_files(content)["document"]

    assert isinstance(upload, TemporaryUploadedFile)
    assert upload.size == len(content) and upload.read() == content
