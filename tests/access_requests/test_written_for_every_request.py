"""S3.4g: every change of an end user's access is in writing. Removals and suspensions that a status
change or a validation sends straight to ITSA get their written request, kept as a PDF, like any
request filed on the form, and it says what produced them."""

import pytest
from conftest import pdf_text, provisioned
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from access_requests.models import AccessRequest, StatusChange, WrittenRequest
from access_requests.services import access_request_queue_for_itsa, status_change_report
from accounts.models import User

NOT_KEPT = "filed before written requests were kept as PDF"


@pytest.mark.parametrize("kind", [StatusChange.Kind.LEFT, StatusChange.Kind.ON_LEAVE])
def test_a_status_change_queues_requests_that_each_have_their_written_pdf(city, kind):
    """S3.4g"""
    grant = provisioned(city, person=city.officer).grant
    with transaction.atomic():
        change = status_change_report(person=User.objects.get(pk=city.officer.pk), kind=kind,
                                      effective_date=timezone.localdate(), note="Told by phone.", by=city.head)

    [request] = AccessRequest.objects.filter(status_change=change)
    written = WrittenRequest.objects.get(request=request)
    text = pdf_text(bytes(written.pdf))
    assert request.reference in text and str(grant.system.name) in text
    assert change.get_kind_display() in text and "Told by phone." in text


def test_a_removal_from_a_validation_has_its_written_pdf_with_the_reason(city):
    """S3.4g"""
    grant = provisioned(city, person=city.officer).grant
    with transaction.atomic():
        request = access_request_queue_for_itsa(
            grant=grant, action=AccessRequest.Action.REMOVE, role=grant.role, by=city.head,
            justification="Revoked in the annual validation of 2026: moved to the records unit.")

    text = pdf_text(bytes(WrittenRequest.objects.get(request=request).pdf))
    assert "Revoked in the annual validation of 2026: moved to the records unit." in text


def test_the_page_of_such_a_request_offers_its_pdf_and_never_says_it_predates_pdfs(city, client):
    """S3.4g: the way around was a request made a minute ago that said it was filed before PDFs."""
    provisioned(city, person=city.officer)
    with transaction.atomic():
        change = status_change_report(person=User.objects.get(pk=city.officer.pk), kind=StatusChange.Kind.LEFT,
                                      effective_date=timezone.localdate(), note="", by=city.head)
    [request] = AccessRequest.objects.filter(status_change=change)
    client.force_login(city.itsa)

    page = client.get(reverse("requests:detail", args=[request.pk])).content.decode()

    assert NOT_KEPT not in page
    assert reverse("requests:written_pdf", args=[request.pk]) in page
