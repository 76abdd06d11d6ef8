"""The access request page and its written text (S3.4d)."""

import hashlib

from conftest import file_request, provisioned
from django.urls import reverse

from portal.models import AuditEvent


def test_the_requester_sees_the_request_its_uses_with_their_conditions_and_the_frozen_text(city, client):
    """S3.4d T1"""
    request = file_request(city)
    client.force_login(city.requester)

    response = client.get(reverse("requests:detail", args=[request.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert request.reference in page
    assert city.crime_detection.name in page
    assert city.crime_detection.intended_use.condition_list()[0] in page
    assert '<pre class="written-request">' in page
    assert request.written_sha256 in page
    assert hashlib.sha256(request.written_text.encode()).hexdigest() == request.written_sha256
    assert reverse("requests:written", args=[request.pk]) in page
    assert "Timeline" in page


def test_the_page_shows_each_person_only_the_actions_the_services_allow_them(city, client):
    """S3.4c S3.5b"""
    request = file_request(city)
    approve_url = reverse("requests:approve", args=[request.pk])
    withdraw_url = reverse("requests:withdraw", args=[request.pk])

    client.force_login(city.requester)
    page = client.get(request.get_absolute_url()).content.decode()
    assert approve_url not in page
    assert withdraw_url in page

    client.force_login(city.head)
    page = client.get(request.get_absolute_url()).content.decode()
    assert approve_url in page
    assert reverse("requests:decline", args=[request.pk]) in page
    assert reverse("requests:provision", args=[request.pk]) not in page


def test_itsa_sees_the_provision_and_return_forms_once_the_head_approved(city, client):
    """S3.5a S3.5b"""
    request = file_request(city, by=city.head)
    client.force_login(city.itsa)

    page = client.get(request.get_absolute_url()).content.decode()

    assert reverse("requests:provision", args=[request.pk]) in page
    assert reverse("requests:return", args=[request.pk]) in page
    assert reverse("requests:approve", args=[request.pk]) not in page


def test_a_completed_request_shows_the_grant_and_the_account_name_and_no_action(city, client):
    request = provisioned(city)
    client.force_login(city.head)

    page = client.get(request.get_absolute_url()).content.decode()

    assert request.account_name in page
    assert request.grant.get_absolute_url() in page
    for name in ("approve", "decline", "withdraw", "provision", "return", "attach"):
        assert reverse(f"requests:{name}", args=[request.pk]) not in page


def test_the_justification_is_escaped(city, client):
    request = file_request(city, justification="<script>alert('x')</script> needs footage")
    client.force_login(city.head)

    page = client.get(request.get_absolute_url()).content.decode()

    assert "<script>alert" not in page
    assert "&lt;script&gt;alert" in page


def test_another_departments_request_answers_404_and_the_attempt_is_logged(city, client):
    request = file_request(city)
    client.force_login(city.outsider)

    response = client.get(request.get_absolute_url())

    assert response.status_code == 404
    assert AuditEvent.objects.filter(actor=city.outsider, action="access_request.view", outcome="denied").exists()


def test_an_unknown_request_answers_404(city, client):
    client.force_login(city.head)

    assert client.get(reverse("requests:detail", args=[999999])).status_code == 404


def test_the_written_request_downloads_as_a_text_file_named_after_its_reference(city, client):
    """S3.4d"""
    request = file_request(city)
    client.force_login(city.head)

    response = client.get(reverse("requests:written", args=[request.pk]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response["Content-Disposition"] == f'attachment; filename="{request.reference}.txt"'
    assert response.content.decode() == request.written_text


def test_each_download_is_written_to_the_audit_trail(city, client):
    """S3.10: exports are security events."""
    request = file_request(city)
    client.force_login(city.head)

    client.get(reverse("requests:written", args=[request.pk]))

    event = AuditEvent.objects.get(action="access_request.download")
    assert (event.actor, event.target, event.detail) == (city.head, str(request), "written request")


def test_the_written_request_of_another_department_answers_404(city, client):
    request = file_request(city)
    client.force_login(city.streets_worker)

    assert client.get(reverse("requests:written", args=[request.pk])).status_code == 404


def test_the_written_request_is_not_served_by_post(city, client):
    request = file_request(city)
    client.force_login(city.head)

    assert client.post(reverse("requests:written", args=[request.pk])).status_code == 405
