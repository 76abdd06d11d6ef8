"""Filing a written access request through the form (S3.3, S3.4d)."""

from conftest import make_pdf, stored_files
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import Grant
from access_requests.models import AccessRequest, SupportingDocument

PDF = make_pdf()


def _form(city, **changes):
    data = {
        "department": city.police.pk, "person": city.officer.pk, "system": city.vms.pk, "action": "add",
        "role": "end_user", "permissible_uses": [city.crime_detection.pk],
        "justification": "Reviews footage for the burglary unit.",
        "condition_statement": "Case 26-001234, an active investigation, until the case closes.",
    }
    data.update(changes)
    return data


def _file(client, data):
    return client.post(reverse("requests:new"), data)


def test_the_form_offers_inline_rule_feedback_through_htmx(city, client):
    client.force_login(city.requester)

    response = client.get(reverse("requests:new"))

    assert response.status_code == 200
    page = response.content.decode()
    # The system, action and role selects; the person's radios come with a search (below).
    assert page.count(f'hx-post="{reverse("requests:preview")}"') == 3
    found = client.get(reverse("requests:new"), {"find": "person", "person_q": "Olive"}).content.decode()
    assert found.count(f'hx-post="{reverse("requests:preview")}"') == 1
    assert 'hx-trigger="change"' in page
    assert 'id="rule-feedback"' in page and 'aria-live="polite"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert 'type="hidden" name="department"' in page
    assert city.crime_detection.intended_use.condition_list()[0] in page


def test_the_form_finds_only_the_people_of_the_department(city, client):
    client.force_login(city.requester)

    page = client.get(reverse("requests:new"), {"find": "person", "person_q": "example"}).content.decode()

    assert city.officer.email in page
    assert city.streets_worker.email not in page


def test_knowing_the_system_the_form_offers_only_the_uses_the_department_may_name(city, client):
    """S2.2 T1: the police department's access to the VMS covers public safety only."""
    client.force_login(city.requester)

    page = client.get(reverse("requests:new"), {"system": city.vms.pk}).content.decode()

    assert city.crime_detection.name in page
    assert city.traffic_monitoring.name not in page


def test_a_requester_files_a_request_that_waits_for_the_head(city, client, tmp_path):
    """S3.3 S3.4c S3.4d"""
    client.force_login(city.requester)
    data = _form(city, documents=[SimpleUploadedFile("signed.pdf", PDF), SimpleUploadedFile("memo.pdf", PDF)])

    response = _file(client, data)

    request = AccessRequest.objects.get()
    assert response.status_code == 302 and response.url == request.get_absolute_url()
    assert request.is_awaiting_head and request.requested_by == city.requester
    assert list(request.permissible_uses.all()) == [city.crime_detection]
    assert request.reference in request.written_text
    assert sorted(request.documents.values_list("original_name", flat=True)) == ["memo.pdf", "signed.pdf"]
    assert len(stored_files(tmp_path / "private")) == 2


def test_the_heads_own_filing_counts_as_approval(city, client):
    """S3.4c"""
    client.force_login(city.head)

    _file(client, _form(city))

    assert AccessRequest.objects.get().is_with_itsa


def test_someone_who_is_not_an_authorized_requester_cannot_file(city, client):
    """S3.3: only the people on the department's list kept with ITSA may file."""
    client.force_login(city.officer)

    page = client.get(reverse("requests:new")).content.decode()
    response = _file(client, _form(city, person=city.analyst.pk))

    assert "authorized requesters" in page and "access-request-form" not in page
    assert response.status_code == 200
    assert not AccessRequest.objects.exists()


def test_the_head_of_another_department_cannot_file_for_this_one(city, client):
    """S3.3"""
    client.force_login(city.outsider)

    response = _file(client, _form(city))

    assert response.status_code == 200
    assert not AccessRequest.objects.exists()
    assert city.officer.email not in response.content.decode()


def test_filing_the_same_request_twice_files_it_once(city, client):
    client.force_login(city.requester)
    _file(client, _form(city))

    response = _file(client, _form(city))

    assert response.status_code == 200
    assert AccessRequest.objects.count() == 1
    assert "already in flight" in response.content.decode()


def test_a_request_that_breaks_separation_of_duties_is_refused_on_the_role_field(city, client):
    """S3.2b: a system administrator never becomes an end user of the system."""
    Grant.objects.create(person=city.officer, system=city.vms, department=city.police, role="administrator",
                         account_name="olive-admin", provisioned_at=timezone.now(), provisioned_by=city.itsa)
    client.force_login(city.requester)

    response = _file(client, _form(city))

    assert response.status_code == 200
    assert not AccessRequest.objects.exists()
    page = response.content.decode()
    assert 'id="id_role_error"' in page and "Section 3.2" in page
    assert 'aria-invalid="true"' in page


def test_a_system_the_department_is_not_authorized_for_is_refused_on_the_system_field(city, client):
    """S3.4a"""
    client.force_login(city.requester)

    response = _file(client, _form(city, system=city.lpr.pk))

    assert response.status_code == 200
    assert not AccessRequest.objects.exists()
    page = response.content.decode()
    assert 'id="id_system_error"' in page and "not authorized" in page


def test_a_use_outside_the_department_access_is_refused(city, client):
    """S2.2"""
    client.force_login(city.requester)

    response = _file(client, _form(city, permissible_uses=[city.traffic_monitoring.pk]))

    assert response.status_code == 200
    assert not AccessRequest.objects.exists()
    assert 'id="uses-error"' in response.content.decode()


def test_a_document_of_the_wrong_type_stops_the_filing_and_nothing_is_stored(city, client, tmp_path):
    client.force_login(city.requester)
    data = _form(city, documents=[SimpleUploadedFile("memo.pdf", b"plain text posing as a PDF")])

    response = _file(client, data)

    assert response.status_code == 200
    assert not AccessRequest.objects.exists()
    assert not SupportingDocument.objects.exists()
    assert stored_files(tmp_path / "private") == []
    assert 'id="id_documents_error"' in response.content.decode()
