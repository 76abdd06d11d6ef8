"""The validation attestation as a PDF: department, period, each person and grant with the decision,
who decided, and the head's sign-off (S3.4e, S3.4f)."""

import re

import pytest
from conftest import PASSWORD, pdf_text, provisioned
from django.urls import reverse
from django.utils import timezone

from audits.documents import attestation_document, attestation_freeze
from audits.services import open_due_validations, validation_item_decide, validation_sign_off
from portal.models import AuditEvent


@pytest.fixture
def signed_off(city):
    """The police's annual validation: the officer's access kept, the analyst's revoked, signed off by the head."""
    officer = provisioned(city).grant
    analyst = provisioned(city, person=city.analyst).grant
    [validation] = open_due_validations()
    items = {item.grant_id: item for item in validation.items.all()}
    validation_item_decide(item=items[officer.pk], decision="keep", by=city.head)
    validation_item_decide(item=items[analyst.pk], decision="revoke", reason="Moved to desk duty.", by=city.head)
    return validation_sign_off(validation=validation, by=city.head, password=PASSWORD)


def test_the_attestation_lists_each_person_and_grant_with_the_decision_who_decided_and_the_sign_off(
        city, signed_off):
    """S3.4e S3.4f"""
    text = pdf_text(attestation_document(validation=signed_off).content)

    assert f"Annual validation of {city.police.name}" in text
    assert signed_off.due_date.strftime("%-d %B %Y") in text
    for person in (city.officer, city.analyst):
        assert person.full_name in text
    assert city.vms.name in text
    assert "Keep" in text and "Revoke" in text
    assert "Moved to desk duty." in text
    assert "1 keep; 1 revoke" in text
    assert f"Signed by {city.head.full_name}" in text
    assert " ".join(signed_off.sign_off_statement.split()) in text
    assert "Not signed off yet" not in text


def test_an_open_validation_prints_as_the_decisions_so_far(city):
    """S3.4e"""
    provisioned(city)
    [validation] = open_due_validations()

    text = pdf_text(attestation_document(validation=validation).content)

    assert "Not signed off yet" in text
    assert "Not decided yet" in text


def _row_of(lines: list[str], name: str) -> str:
    """The text of the table row that names the person: its first line and the lines its wrapped cells
    continue on, up to the next numbered row or the sign-off."""
    [start] = [index for index, line in enumerate(lines) if name in line]
    row = [lines[start]]
    for line in lines[start + 1:]:
        if re.match(r"\s*\d+\. ", line) or "sign-off" in line:
            break
        row.append(line)
    return " ".join(row)


def test_the_attestation_is_a_table_of_one_row_a_grant_with_decision_who_and_when(city, signed_off):
    """S3.4e S3.4f: each grant on a row of its own, its decision, who decided and when in their own columns."""
    lines = pdf_text(attestation_document(validation=signed_off).content, layout=True).splitlines()

    header = next(line for line in lines if "Person (account)" in line)
    for column in ("System, role; permissible uses", "Decision", "Decided by", "Decided on"):
        assert column in header
    decided_on = signed_off.items.get(grant__person=city.analyst).decided_at
    for person, decision in ((city.officer, "Keep"), (city.analyst, "Revoke")):
        row = _row_of(lines, person.full_name)
        assert decision in row and city.head.full_name in row
        assert f"{timezone.localtime(decided_on):%-d %b %Y}" in row
    assert not any("not decided" in line.lower() for line in lines)


def test_an_undecided_grant_reads_as_not_decided_once_with_no_one_and_no_date(city):
    """S3.4e: the decision column says it once; who and when are empty, not a second "not decided"."""
    provisioned(city)
    [validation] = open_due_validations()

    lines = pdf_text(attestation_document(validation=validation).content, layout=True).splitlines()

    row = _row_of(lines, city.officer.full_name)
    assert row.count("Not decided yet") == 1 and "—" in row
    assert "not decided" not in row.replace("Not decided yet", "")


def test_the_head_downloads_the_attestation_and_the_download_is_recorded(city, client, signed_off):
    """S3.4f: the attestation kept at the sign-off (made by the worker once the sign-off commits)."""
    attestation_freeze(validation_id=signed_off.pk)
    client.force_login(city.head)

    response = client.get(reverse("audits:attestation", args=[signed_off.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert city.officer.full_name in pdf_text(response.content)
    assert AuditEvent.objects.filter(action="validation.download", actor=city.head).exists()


def test_the_validation_page_links_to_its_kept_attestation(city, client, signed_off):
    attestation_freeze(validation_id=signed_off.pk)
    client.force_login(city.head)
    page = client.get(signed_off.get_absolute_url()).content.decode()
    assert reverse("audits:attestation", args=[signed_off.pk]) in page


def test_an_open_validation_links_to_the_page_that_makes_its_copy(city, client):
    provisioned(city)
    [validation] = open_due_validations()
    client.force_login(city.head)
    page = client.get(validation.get_absolute_url()).content.decode()
    assert reverse("audits:attestation_status", args=[validation.pk]) in page
    assert reverse("audits:attestation", args=[validation.pk]) not in page


def test_another_department_gets_no_attestation(city, client, signed_off):
    """S3.4e: an attestation is as private as its validation."""
    client.force_login(city.outsider)
    assert client.get(reverse("audits:attestation", args=[signed_off.pk])).status_code == 404


def test_an_attestation_that_cannot_be_made_in_time_says_so_on_its_page(
        city, client, settings, django_capture_on_commit_callbacks):
    """The worker's render is stopped at its limit; the page says why and offers to ask again."""
    provisioned(city)
    [validation] = open_due_validations()
    settings.PDF_WORKER_RENDER_SECONDS = 0.000001
    client.force_login(city.head)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("audits:attestation_status", args=[validation.pk]))

    page = client.get(reverse("audits:attestation_status", args=[validation.pk])).content.decode()
    assert "The last copy could not be made" in page and "took longer than" in page
    assert "tell ITSA" in page and "run the report" not in page
    assert "Make a copy of the decisions so far" in page
    assert client.get(reverse("audits:attestation", args=[validation.pk])).status_code == 302
