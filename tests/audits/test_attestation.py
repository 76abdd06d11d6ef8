"""The validation attestation as a PDF: department, period, each person and grant with the decision,
who decided, and the head's sign-off (S3.4e, S3.4f)."""

import pytest
from conftest import PASSWORD, pdf_text, provisioned
from django.urls import reverse

from audits.documents import attestation_document
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


def test_the_head_downloads_the_attestation_and_the_download_is_recorded(city, client, signed_off):
    """S3.4f"""
    client.force_login(city.head)

    response = client.get(reverse("audits:attestation", args=[signed_off.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert city.officer.full_name in pdf_text(response.content)
    assert AuditEvent.objects.filter(action="validation.download", actor=city.head).exists()


def test_the_validation_page_links_to_its_attestation(city, client, signed_off):
    client.force_login(city.head)
    page = client.get(signed_off.get_absolute_url()).content.decode()
    assert reverse("audits:attestation", args=[signed_off.pk]) in page


def test_another_department_gets_no_attestation(city, client, signed_off):
    """S3.4e: an attestation is as private as its validation."""
    client.force_login(city.outsider)
    assert client.get(reverse("audits:attestation", args=[signed_off.pk])).status_code == 404


def test_an_attestation_that_cannot_be_made_in_time_is_refused_with_a_message(city, client, signed_off, settings):
    settings.PDF_RENDER_SECONDS = 0.000001
    client.force_login(city.head)

    response = client.get(reverse("audits:attestation", args=[signed_off.pk]), follow=True)

    assert response.redirect_chain[-1][0] == signed_off.get_absolute_url()
    assert "longer than" in response.content.decode()
