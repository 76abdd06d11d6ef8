"""The list of access requests a person may see, with search, a status filter and pages."""

import pytest
from conftest import file_request
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from access_requests.models import AccessRequest


def _streets_request(city):
    from access_requests.services import access_request_submit

    return access_request_submit(
        department=city.streets, person=city.streets_worker, system=city.traffic, action="add", role="end_user",
        permissible_uses=[city.traffic_monitoring], justification="Signal timing.", by=city.outsider,
    )


def test_the_head_sees_the_departments_requests_and_not_anothers(city, client):
    ours = file_request(city)
    theirs = _streets_request(city)
    client.force_login(city.head)

    page = client.get(reverse("requests:list")).content.decode()

    assert ours.reference in page and theirs.reference not in page


@pytest.mark.parametrize("q", ["analyst", "Andy", "AR-", "Citywide"])
def test_search_finds_requests_by_reference_person_e_mail_or_system(city, client, q):
    found = file_request(city, person=city.analyst)
    client.force_login(city.head)

    page = client.get(reverse("requests:list"), {"q": q}).content.decode()

    assert found.reference in page


def test_search_leaves_out_what_does_not_match(city, client):
    officer = file_request(city)
    analyst = file_request(city, person=city.analyst)
    client.force_login(city.head)

    page = client.get(reverse("requests:list"), {"q": "Andy"}).content.decode()

    assert analyst.reference in page and officer.reference not in page


def test_the_status_filter_keeps_one_status(city, client):
    waiting = file_request(city)
    with_itsa = file_request(city, person=city.analyst, by=city.head)
    client.force_login(city.head)

    page = client.get(reverse("requests:list"), {"status": "with_itsa"}).content.decode()

    assert with_itsa.reference in page and waiting.reference not in page


def test_an_unknown_status_is_ignored(city, client):
    waiting = file_request(city)
    client.force_login(city.head)

    response = client.get(reverse("requests:list"), {"status": "'; drop table"})

    assert response.status_code == 200 and waiting.reference in response.content.decode()


def test_pages_keep_the_search(city, client, settings):
    settings.PAGE_SIZE = 1
    file_request(city)
    file_request(city, person=city.analyst)
    client.force_login(city.head)

    page = client.get(reverse("requests:list"), {"q": "police"}).content.decode()

    assert "q=police&amp;page=2" in page


def test_a_person_without_a_role_sees_no_request(city, client):
    request = file_request(city)
    client.force_login(city.officer)

    page = client.get(reverse("requests:list")).content.decode()

    assert request.reference not in page


@pytest.mark.parametrize("rows", [10, 40])
def test_the_list_runs_the_same_number_of_queries_whatever_the_number_of_rows(
    city, client, settings, django_assert_max_num_queries, rows
):
    settings.PAGE_SIZE = 50
    people = User.objects.bulk_create(
        User(email=f"person{i}@police.example", full_name=f"Person {i:03d}", department=city.police)
        for i in range(rows)
    )
    now = timezone.now()
    AccessRequest.objects.bulk_create(
        AccessRequest(
            reference=f"AR-TEST-{i:05d}", department=city.police, person=person, system=city.vms, action="add",
            role="end_user", justification="Patrol.", written_text="Patrol.", written_sha256="0" * 64,
            status=AccessRequest.Status.AWAITING_HEAD, requested_by=city.requester, submitted_at=now,
        )
        for i, person in enumerate(people)
    )
    client.force_login(city.head)

    with django_assert_max_num_queries(10):
        response = client.get(reverse("requests:list"))

    assert response.content.decode().count("AR-TEST-") == rows
