"""The attestation of an open validation, or of a signed one not kept yet, is made on a worker
(S3.4e, S3.4f): nobody waits on a request while a department of thousands of grants is laid out. The
page asks for it, shows that it is being made, and downloads it when it is ready."""

from datetime import timedelta

import pytest
from conftest import PASSWORD, pdf_text, provisioned
from django.urls import reverse
from django.utils import timezone

from audits.documents import COPY_LOST_AFTER, attestation_copy_make, attestation_request
from audits.models import AttestationCopy
from audits.services import open_due_validations, validation_item_decide, validation_sign_off
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db


def _open(city):
    """The police's annual validation, open, with the officer's access under review."""
    grant = provisioned(city).grant
    [validation] = open_due_validations()
    return validation, validation.items.get(grant=grant)


def _status(validation):
    return reverse("audits:attestation_status", args=[validation.pk])


def _pdf(validation):
    return reverse("audits:attestation", args=[validation.pk])


def test_the_head_asks_for_a_copy_and_downloads_the_decisions_so_far(
        city, client, django_capture_on_commit_callbacks):
    """S3.4e: the copy is made once the request commits, and the download is the decisions so far."""
    validation, item = _open(city)
    validation_item_decide(item=item, decision="keep", by=city.head)
    client.force_login(city.head)

    with django_capture_on_commit_callbacks(execute=True) as sent:
        response = client.post(_status(validation))

    assert response.status_code == 302 and response["Location"] == _status(validation)
    assert len(sent) == 1
    page = client.get(_status(validation)).content.decode()
    assert "Download the copy of the decisions made by" in page and "Make a new copy" in page
    download = client.get(_pdf(validation))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    text = pdf_text(download.content)
    assert "Not signed off yet" in text and city.officer.full_name in text and "Keep" in text
    assert AuditEvent.objects.filter(action="validation.attestation_requested", actor=city.head).count() == 1
    assert AuditEvent.objects.filter(action="validation.download", actor=city.head,
                                     detail__startswith="attestation copy").exists()


def test_nothing_is_rendered_in_the_request_and_the_page_shows_the_work_in_progress(
        city, client, django_capture_on_commit_callbacks):
    """Until a worker has made it there is no PDF to send: the download leads to the page, which says
    it is being made and, with JavaScript, asks again every few seconds."""
    validation, _ = _open(city)
    client.force_login(city.head)

    with django_capture_on_commit_callbacks(execute=False):
        client.post(_status(validation))

    assert client.get(_pdf(validation))["Location"] == _status(validation)
    copy = AttestationCopy.objects.get(validation=validation)
    assert copy.is_pending and not copy.pdf
    page = client.get(_status(validation)).content.decode()
    assert "is being made" in page and 'hx-trigger="every 3s"' in page
    assert "Make a copy" not in page
    progress = client.get(_status(validation), HTTP_HX_REQUEST="true")
    assert progress.status_code == 200 and 'id="attestation-progress"' in progress.content.decode()

    attestation_copy_make(validation_id=validation.pk)  # what the worker does

    done = client.get(_status(validation), HTTP_HX_REQUEST="true")
    assert done.status_code == 204 and done["HX-Refresh"] == "true"
    assert client.get(_pdf(validation)).status_code == 200


def test_asking_again_while_a_copy_is_being_made_sends_no_second_task_unless_it_looks_lost(
        city, django_capture_on_commit_callbacks):
    validation, _ = _open(city)

    with django_capture_on_commit_callbacks() as sent:
        attestation_request(validation=validation, by=city.head)
        attestation_request(validation=validation, by=city.designee)
    assert len(sent) == 1
    assert AttestationCopy.objects.get(validation=validation).requested_by == city.head

    AttestationCopy.objects.filter(validation=validation).update(
        requested_at=timezone.now() - COPY_LOST_AFTER - timedelta(minutes=1))
    with django_capture_on_commit_callbacks() as sent_again:
        attestation_request(validation=validation, by=city.designee)
    assert len(sent_again) == 1
    assert AttestationCopy.objects.get(validation=validation).requested_by == city.designee


def test_a_new_copy_shows_the_decisions_made_since_the_last(city, client, django_capture_on_commit_callbacks):
    """S3.4e: the page says how many decisions the copy it offers leaves out; a new copy has them."""
    validation, item = _open(city)
    client.force_login(city.head)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_status(validation))
    assert "Not decided yet" in pdf_text(client.get(_pdf(validation)).content)

    validation_item_decide(item=item, decision="revoke", reason="Left the unit.", by=city.head)

    assert "1 decision was made since this copy" in client.get(_status(validation)).content.decode()
    old_name = AttestationCopy.objects.get(validation=validation).pdf.name
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_status(validation))
    copy = AttestationCopy.objects.get(validation=validation)
    assert copy.pdf.name != old_name and not copy.pdf.storage.exists(old_name)
    text = pdf_text(client.get(_pdf(validation)).content)
    assert "Revoke" in text and "Left the unit." in text
    assert "since this copy" not in client.get(_status(validation)).content.decode()


def test_the_sign_off_replaces_the_copy_with_the_kept_attestation(city, client, django_capture_on_commit_callbacks):
    """S3.4f: after the sign-off only the attestation as signed is served; the copy and its file go."""
    validation, item = _open(city)
    with django_capture_on_commit_callbacks(execute=True):
        attestation_request(validation=validation, by=city.head)
    copy_file = AttestationCopy.objects.get(validation=validation).pdf
    validation_item_decide(item=item, decision="keep", by=city.head)

    with django_capture_on_commit_callbacks(execute=True):
        validation_sign_off(validation=validation, by=city.head, password=PASSWORD)

    assert not AttestationCopy.objects.filter(validation=validation).exists()
    assert not copy_file.storage.exists(copy_file.name)
    client.force_login(city.head)
    text = pdf_text(client.get(_pdf(validation)).content)
    assert f"Signed by {city.head.full_name}" in text and "Not signed off yet" not in text


def test_a_copy_asked_for_before_the_sign_off_and_made_after_it_is_not_made(
        city, django_capture_on_commit_callbacks):
    validation, item = _open(city)
    with django_capture_on_commit_callbacks(execute=False):
        attestation_request(validation=validation, by=city.head)
    validation_item_decide(item=item, decision="keep", by=city.head)
    with django_capture_on_commit_callbacks(execute=False):
        validation_sign_off(validation=validation, by=city.head, password=PASSWORD)

    copy = attestation_copy_make(validation_id=validation.pk)

    assert copy is not None and copy.made_at is None and not copy.pdf


def test_a_signed_attestation_whose_task_was_lost_is_asked_for_again_from_its_page(
        city, client, django_capture_on_commit_callbacks):
    """S3.4f: signed, not kept yet (the worker's task lost): the page says it is being made and can
    send it to a worker again; nothing is rendered in the request."""
    validation, item = _open(city)
    validation_item_decide(item=item, decision="keep", by=city.head)
    with django_capture_on_commit_callbacks(execute=False):
        validation_sign_off(validation=validation, by=city.head, password=PASSWORD)
    client.force_login(city.head)

    assert client.get(_pdf(validation))["Location"] == _status(validation)
    page = client.get(_status(validation)).content.decode()
    assert "signed attestation is being made" in page and "Ask for the signed attestation again" in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(_status(validation))

    validation.refresh_from_db()
    assert validation.attestation_sha256
    assert not AttestationCopy.objects.filter(validation=validation).exists()
    assert "Download the signed attestation" in client.get(_status(validation)).content.decode()
    assert client.get(_pdf(validation)).status_code == 200


def test_another_department_can_neither_see_nor_ask_for_the_attestation(
        city, client, django_capture_on_commit_callbacks):
    """S3.4e: an attestation is as private as its validation."""
    validation, _ = _open(city)
    client.force_login(city.outsider)

    with django_capture_on_commit_callbacks(execute=True) as sent:
        assert client.post(_status(validation)).status_code == 404
    assert client.get(_status(validation)).status_code == 404
    assert not sent and not AttestationCopy.objects.exists()
