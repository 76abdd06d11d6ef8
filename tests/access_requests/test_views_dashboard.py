"""The home page: what each person has to do, by role."""

import pytest
from conftest import file_request, provisioned
from django.urls import reverse

from accounts.models import User
from portal.models import IntendedUse
from access_requests.services import department_access_request


def _dashboard(client, user):
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    response = client.get(reverse("home"))

    assert response.status_code == 302 and reverse("login") in response.url


def test_the_head_sees_what_waits_for_approval_requests_in_flight_and_people_with_grants(city, client):
    grant = provisioned(city, person=city.analyst).grant
    waiting = file_request(city)
    page = _dashboard(client, city.head)

    assert "Waiting for your approval" in page and "Requests in flight" in page
    assert page.count(waiting.get_absolute_url()) == 2
    assert "My people and their grants" in page
    assert grant.get_absolute_url() in page and city.analyst.get_absolute_url() in page
    assert reverse("requests:new") in page
    assert city.streets_worker.full_name not in page


def test_the_heads_own_request_does_not_wait_for_the_head(city, client):
    """S3.4c: nobody approves their own access."""
    own = file_request(city, person=city.head)

    page = _dashboard(client, city.head)

    assert page.count(own.get_absolute_url()) == 1  # in flight, not waiting for approval


def test_an_authorized_requester_files_but_approves_nothing(city, client):
    file_request(city)

    page = _dashboard(client, city.requester)

    assert reverse("requests:new") in page
    assert "Waiting for your approval" not in page
    assert "Requests in flight" in page


def test_itsa_sees_how_many_requests_wait_in_the_queue(city, client):
    file_request(city, by=city.head)
    file_request(city, by=city.head, person=city.analyst)
    done = provisioned(city, person=city.requester)

    page = _dashboard(client, city.itsa)

    assert "2 approved access requests wait for ITSA" in page
    assert reverse("requests:queue") in page
    assert done.get_absolute_url() in page


def test_the_designee_sees_pending_department_access_and_heads_own_requests(city, client):
    """S3.4b"""
    access = department_access_request(department=city.police, system=city.lpr,
                                       intended_uses=[IntendedUse.objects.get(code="public-safety")],
                                       business_need="Stolen vehicles.", by=city.head)
    heads_own = file_request(city, person=city.head)

    page = _dashboard(client, city.designee)

    assert access.get_absolute_url() in page
    assert heads_own.get_absolute_url() in page


def test_someone_without_a_role_is_told_how_to_get_one(city, client):
    page = _dashboard(client, city.officer)

    assert "You have no role in the portal yet" in page
    assert reverse("requests:new") not in page


@pytest.mark.parametrize("rows", [10, 40])
def test_the_dashboard_runs_the_same_number_of_queries_whatever_the_number_of_people(
    city, client, django_assert_max_num_queries, rows
):
    User.objects.bulk_create(
        User(email=f"person{i}@police.example", full_name=f"Person {i:03d}", department=city.police)
        for i in range(rows)
    )
    client.force_login(city.head)

    with django_assert_max_num_queries(15):
        response = client.get(reverse("home"))

    assert response.status_code == 200
    assert reverse("accounts:people") in response.content.decode()


def _in_flight_section(page: str) -> str:
    start = page.index('id="in-flight-heading"')
    return page[start:page.index("</section>", start)]


def test_requests_in_flight_are_newest_first_whatever_their_status(city, client):
    """Each open status is read on its own (access_requests.views._newest_open_requests); the lists
    are merged by submission time, not shown one status after the other."""
    from datetime import timedelta

    from django.utils import timezone

    from access_requests.models import AccessRequest
    from access_requests.services import access_request_approve

    oldest = file_request(city, person=city.officer)
    middle = access_request_approve(request=file_request(city, person=city.analyst), by=city.head)
    newest = file_request(city, person=city.head)
    now = timezone.now()
    for hours, request in ((3, oldest), (2, middle), (1, newest)):
        AccessRequest.objects.filter(pk=request.pk).update(submitted_at=now - timedelta(hours=hours))
    assert middle.status == AccessRequest.Status.WITH_ITSA and newest.is_awaiting_head

    section = _in_flight_section(_dashboard(client, city.head))

    positions = [section.index(request.get_absolute_url()) for request in (newest, middle, oldest)]
    assert positions == sorted(positions)


def test_requests_in_flight_show_a_screenful_and_say_there_are_more_across_statuses(city, client, monkeypatch):
    from access_requests import views
    from access_requests.services import access_request_approve

    monkeypatch.setattr(views, "DASHBOARD_ROWS", 2)
    file_request(city, person=city.officer)
    access_request_approve(request=file_request(city, person=city.analyst), by=city.head)
    file_request(city, person=city.head)

    context = views.dashboard_context(type("Request", (), {"user": city.head})())

    assert len(context["in_flight"]) == 2 and context["more_in_flight"] is True
