"""ITSA's import page (adoption.uploads and adoption.views): upload the four files, a worker checks them
and the page previews every outcome row by row; nothing is written until ITSA confirms; the import
checks again and writes all or nothing, then opens the baseline validations."""

import csv
import io
from pathlib import Path

import pytest
from conftest import messages_of
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Department, Grant, User
from adoption.models import AdoptedGrant, ImportBatch, Upload
from adoption.services import FILES
from adoption.uploads import upload_check
from audits.models import Validation
from portal.models import AuditEvent

SAMPLES = Path(settings.BASE_DIR) / "docs" / "samples" / "adoption"


def sample(name: str, *, extra: str = "") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (SAMPLES / name).read_bytes() + extra.encode(), content_type="text/csv")


def form_data(**changes) -> dict:
    data = {name.removesuffix(".csv"): sample(name) for name in FILES}
    data.update(changes)
    return data


def written():
    return (Department.objects.count(), User.objects.count(), Grant.objects.count(), ImportBatch.objects.count(),
            Validation.objects.count())


@pytest.fixture
def itsa(city, client):
    client.force_login(city.itsa)
    return client


def upload_through_the_page(client, capture, **changes) -> Upload:
    with capture(execute=True):
        response = client.post(reverse("adoption:index"), form_data(**changes))
    assert response.status_code == 302, response.content.decode()[:2000]
    upload = Upload.objects.get()
    assert response["Location"] == upload.get_absolute_url()
    upload.refresh_from_db()
    return upload


def test_the_upload_is_checked_and_previewed_and_nothing_is_written(city, itsa, django_capture_on_commit_callbacks):
    """S3.5b: ITSA sees what the import would do, row by row, before anything is written."""
    before = written()
    upload = upload_through_the_page(itsa, django_capture_on_commit_callbacks)

    assert upload.status == Upload.Status.CHECKED
    assert upload.totals["refused"] == 0 and upload.totals["create"] == sum(
        len((SAMPLES / name).read_text().splitlines()) - 1 for name in FILES)
    assert written() == before
    page = itsa.get(upload.get_absolute_url()).content.decode()
    assert "What the import would do" in page
    assert "accounts.csv:2" in page and "account iinspector on fire-vms" in page
    assert f"Import {upload.totals['create']} rows" in page
    assert AuditEvent.objects.filter(action="adoption.upload", actor=city.itsa).exists()


def test_confirming_imports_and_the_page_shows_the_result(city, itsa, django_capture_on_commit_callbacks):
    """S3.4a, S3.5b: the import writes the previewed files and opens each department's baseline validation."""
    upload = upload_through_the_page(itsa, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        response = itsa.post(reverse("adoption:upload_import", args=[upload.pk]))
    assert response.status_code == 302
    upload.refresh_from_db()

    assert upload.status == Upload.Status.IMPORTED and upload.imported_by == city.itsa
    assert AdoptedGrant.objects.filter(batch=upload.batch).count() == 3
    assert upload.batch.files == upload.files
    opened = Validation.objects.filter(pk__in=upload.validations)
    assert {v.department.code for v in opened} == {"fire", "transit"}
    page = itsa.get(upload.get_absolute_url()).content.decode()
    assert "Imported" in page and f"import batch\n    {upload.batch.pk}" in page
    for validation in opened:
        assert reverse("audits:validation", args=[validation.pk]) in page


def test_a_refused_row_is_shown_with_its_file_line_and_reason_and_blocks_the_import(
        city, itsa, django_capture_on_commit_callbacks):
    """S3.5b: a conflicting row is refused, never imported with a warning; the import is all or nothing."""
    before = written()
    upload = upload_through_the_page(
        itsa, django_capture_on_commit_callbacks,
        accounts=sample("accounts.csv", extra="fire-vms,E1002,cap,end_user,nowhere,building-protection,\n"))

    assert upload.totals["refused"] == 1
    page = itsa.get(upload.get_absolute_url()).content.decode()
    assert "accounts.csv:5" in page and "Unknown department “nowhere”" in page
    assert "nothing can be imported" in page
    assert reverse("adoption:upload_import", args=[upload.pk]) not in page

    response = itsa.post(reverse("adoption:upload_import", args=[upload.pk]))
    assert "1 row(s) are refused" in " ".join(messages_of(response, levels=False))
    upload.refresh_from_db()
    assert upload.status == Upload.Status.CHECKED
    assert written() == before


def test_the_portal_changing_after_the_preview_stops_the_whole_import(city, itsa, django_capture_on_commit_callbacks):
    """S3.5b: the import checks the files again; a row refused now refuses all of it."""
    upload = upload_through_the_page(itsa, django_capture_on_commit_callbacks)
    Department.objects.create(code="fire-2", name="Fire Department")  # the file's name, under another code
    before = written()

    with django_capture_on_commit_callbacks(execute=True):
        itsa.post(reverse("adoption:upload_import", args=[upload.pk]))
    upload.refresh_from_db()

    assert upload.status == Upload.Status.FAILED
    assert "Nothing was imported" in upload.message
    assert upload.totals["refused"] >= 1  # the department, and the rows that name it
    assert written() == before
    page = itsa.get(upload.get_absolute_url()).content.decode()
    assert "Another department is already named “Fire Department”" in page


def test_the_same_files_again_have_nothing_to_import(city, itsa, django_capture_on_commit_callbacks):
    """S3.5b: a second run of the same files changes nothing."""
    first = upload_through_the_page(itsa, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        itsa.post(reverse("adoption:upload_import", args=[first.pk]))
    Upload.objects.filter(pk=first.pk).update(batch=None)
    Upload.objects.filter(pk=first.pk).delete()
    before = written()

    second = upload_through_the_page(itsa, django_capture_on_commit_callbacks)

    assert second.totals["create"] == second.totals["change"] == second.totals["refused"] == 0
    page = itsa.get(second.get_absolute_url()).content.decode()
    assert "Nothing to import: every row is already in the portal." in page
    response = itsa.post(reverse("adoption:upload_import", args=[second.pk]))
    assert "Nothing to import" in " ".join(messages_of(response, levels=False))
    assert written() == before


def test_an_upload_cannot_be_imported_twice(city, itsa, django_capture_on_commit_callbacks):
    upload = upload_through_the_page(itsa, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        itsa.post(reverse("adoption:upload_import", args=[upload.pk]))
    grants = Grant.objects.count()
    response = itsa.post(reverse("adoption:upload_import", args=[upload.pk]))
    assert "imported already" in " ".join(messages_of(response, levels=False))
    assert Grant.objects.count() == grants and ImportBatch.objects.count() == 1


@pytest.mark.parametrize(("field", "upload", "message"), [
    ("people", None, "This field is required"),
    ("people", SimpleUploadedFile("people.csv", b"", content_type="text/csv"), "The submitted file is empty"),
    ("systems", SimpleUploadedFile("systems.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", content_type="text/csv"),
     "systems.csv is not a CSV text file"),
])
def test_a_missing_empty_or_binary_file_is_refused_and_nothing_is_kept(city, itsa, field, upload, message):
    data = form_data()
    if upload is None:
        del data[field]
    else:
        data[field] = upload
    response = itsa.post(reverse("adoption:index"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Upload.objects.exists()


def test_the_report_has_every_row_and_its_download_is_audited(city, itsa, django_capture_on_commit_callbacks):
    upload = upload_through_the_page(
        itsa, django_capture_on_commit_callbacks,
        people=sample("people.csv", extra="E9,not-an-address,Nina Nobody,x,fire,\n"))
    response = itsa.get(reverse("adoption:upload_report", args=[upload.pk]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))

    assert rows[0] == ["file", "line", "outcome", "row", "reason"]
    assert len(rows) - 1 == sum(upload.totals.values())
    line = len((SAMPLES / "people.csv").read_text().splitlines()) + 1
    assert ["people.csv", str(line), "refused", "person E9", "“not-an-address” is not an e-mail address."] in rows
    assert AuditEvent.objects.filter(action="adoption.report", actor=city.itsa).exists()


def test_while_the_worker_checks_the_page_says_so_and_polls(city, itsa):
    response = itsa.post(reverse("adoption:index"), form_data())  # the check waits for the commit: not run here
    upload = Upload.objects.get()
    assert upload.status == Upload.Status.CHECKING
    page = itsa.get(response["Location"]).content.decode()
    assert "The files are being checked" in page and 'hx-trigger="every 3s"' in page

    fragment = itsa.get(upload.get_absolute_url(), headers={"HX-Request": "true"})
    assert 'id="upload-progress"' in fragment.content.decode() and "<html" not in fragment.content.decode()
    upload_check(upload_id=upload.pk)
    done = itsa.get(upload.get_absolute_url(), headers={"HX-Request": "true"})
    assert done.status_code == 204 and done["HX-Refresh"] == "true"


def test_the_auditor_reads_the_page_but_cannot_upload(city, client):
    """S3.2a: oversight reads every record and changes none."""
    client.force_login(city.auditor)
    page = client.get(reverse("adoption:index")).content.decode()
    assert "Upload and check" not in page
    response = client.post(reverse("adoption:index"), form_data())
    assert "only ITSA can import" in response.content.decode()
    assert not Upload.objects.exists()
    assert AuditEvent.objects.filter(action="adoption.import", actor=city.auditor, outcome="denied").exists()


@pytest.mark.parametrize("role", ["head", "requester", "officer", "designee"])
def test_the_page_does_not_exist_for_anyone_else(city, client, role):
    client.force_login(getattr(city, role))
    assert client.get(reverse("adoption:index")).status_code == 404
    assert AuditEvent.objects.filter(action="adoption.view", outcome="denied").exists()


def test_the_itsa_dashboard_links_the_page(city, itsa):
    assert reverse("adoption:index") in itsa.get(reverse("home")).content.decode()
