"""A signed validation's attestation is made once, after the sign-off commits, and kept with its
SHA-256 (S3.4e, S3.4f): the record stays as it was signed, and a download serves the kept file only
while it matches its fingerprint."""

import hashlib
import time

import pytest
from conftest import PASSWORD, pdf_text, provisioned
from django.urls import reverse

from accounts.models import User
from audits.documents import attestation_freeze, attestations_freeze_missing
from audits.models import Validation
from audits.services import open_due_validations, validation_item_decide, validation_sign_off
from portal.models import AuditEvent


def _decided(city):
    """The police's annual validation with the officer's access kept, not yet signed."""
    grant = provisioned(city).grant
    [validation] = open_due_validations()
    validation_item_decide(item=validation.items.get(grant=grant), decision="keep", by=city.head)
    return validation


def _sign(city, validation):
    return validation_sign_off(validation=validation, by=city.head, password=PASSWORD)


def _kept_bytes(validation) -> bytes:
    with validation.attestation_pdf.open("rb") as handle:
        return handle.read()


@pytest.mark.django_db
def test_the_sign_off_keeps_the_attestation_once_it_commits(city, django_capture_on_commit_callbacks):
    """S3.4e S3.4f"""
    validation = _decided(city)

    with django_capture_on_commit_callbacks(execute=True):
        _sign(city, validation)

    validation.refresh_from_db()
    content = _kept_bytes(validation)
    assert validation.attestation_sha256 == hashlib.sha256(content).hexdigest()
    text = pdf_text(content)
    assert f"Annual validation of {city.police.name}" in text and city.officer.full_name in text
    assert f"Signed by {city.head.full_name}" in text
    assert AuditEvent.objects.filter(action="validation.attestation_kept").count() == 1


@pytest.mark.django_db
def test_the_download_is_the_attestation_as_signed_whatever_changes_later(city, client):
    """S3.4f: a name changed after the sign-off does not change the signed record."""
    validation = _sign(city, _decided(city))
    kept = attestation_freeze(validation_id=validation.pk)
    officer_name = city.officer.full_name
    User.objects.filter(pk=city.officer.pk).update(full_name="Renamed Later")

    client.force_login(city.head)
    response = client.get(reverse("audits:attestation", args=[validation.pk]))

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert hashlib.sha256(response.content).hexdigest() == kept.attestation_sha256
    text = pdf_text(response.content)
    assert officer_name in text and "Renamed Later" not in text
    assert AuditEvent.objects.filter(action="validation.download", actor=city.head).count() == 1


@pytest.mark.django_db
def test_a_kept_attestation_that_no_longer_matches_its_fingerprint_is_not_sent(city, client):
    """S3.4f: a changed file is refused with a message, and the refusal is on the audit trail."""
    validation = attestation_freeze(validation_id=_sign(city, _decided(city)).pk)
    with open(validation.attestation_pdf.path, "ab") as handle:
        handle.write(b"%% altered")

    client.force_login(city.head)
    response = client.get(reverse("audits:attestation", args=[validation.pk]), follow=True)

    assert response["Content-Type"].startswith("text/html")
    assert "does not match its fingerprint" in response.content.decode()
    assert AuditEvent.objects.filter(action="validation.integrity_failed", outcome="denied").count() == 1
    assert not AuditEvent.objects.filter(action="validation.download").exists()


@pytest.mark.django_db
def test_an_open_validation_is_not_kept(city, client):
    """S3.4e"""
    validation = _decided(city)

    assert attestation_freeze(validation_id=validation.pk).attestation_sha256 == ""
    client.force_login(city.head)
    # Nothing rendered in the request: the page where a worker makes a copy of the decisions so far
    # (tests/audits/test_attestation_copy.py).
    response = client.get(reverse("audits:attestation", args=[validation.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("audits:attestation_status", args=[validation.pk])


@pytest.mark.django_db
def test_keeping_is_done_once(city):
    validation = _sign(city, _decided(city))

    first = attestation_freeze(validation_id=validation.pk)
    second = attestation_freeze(validation_id=validation.pk)

    assert second.attestation_sha256 == first.attestation_sha256
    assert second.attestation_pdf.name == first.attestation_pdf.name
    assert AuditEvent.objects.filter(action="validation.attestation_kept").count() == 1


@pytest.mark.django_db
def test_the_nightly_task_keeps_what_a_lost_task_left_and_leaves_open_validations(city):
    signed = _sign(city, _decided(city))
    audit = Validation.objects.create(kind=Validation.Kind.USER_AUDIT, department=city.streets, period=signed.period,
                                      due_date=signed.due_date)

    assert attestations_freeze_missing() == 1
    assert attestations_freeze_missing() == 0

    signed.refresh_from_db()
    audit.refresh_from_db()
    assert signed.attestation_sha256 and not audit.attestation_sha256


@pytest.mark.django_db(transaction=True)
def test_a_worker_keeps_the_attestation_after_the_sign_off(city, worker_on_redis):
    """S3.4f: through the broker to a real worker, as in production."""
    validation = _decided(city)

    _sign(city, validation)

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        validation.refresh_from_db()
        if validation.attestation_sha256:
            break
        time.sleep(0.2)
    assert validation.attestation_sha256 == hashlib.sha256(_kept_bytes(validation)).hexdigest()


@pytest.mark.django_db
def test_attestations_that_cannot_be_made_in_time_wait_for_the_next_night(city, settings):
    """A render stopped by the worker's limit (PDF_WORKER_RENDER_SECONDS) is logged, the others are
    still tried, and the next run keeps them all."""
    first = _sign(city, _decided(city))
    second = Validation.objects.create(kind=Validation.Kind.USER_AUDIT, department=city.police, period=first.period,
                                       due_date=first.due_date, status=Validation.Status.COMPLETE)
    settings.PDF_WORKER_RENDER_SECONDS = 0.000001

    assert attestations_freeze_missing() == 0

    settings.PDF_WORKER_RENDER_SECONDS = 60
    assert attestations_freeze_missing() == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.attestation_sha256 and second.attestation_sha256
