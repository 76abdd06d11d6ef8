"""The people list: scoped to what the viewer may see, searchable, filterable, with live grants counted."""

import pytest
from conftest import provisioned
from django.urls import reverse
from django.utils import timezone

from accounts.models import Grant, User

URL = reverse("accounts:people")


def _names(response):
    return {person.full_name for person in response.context["page_obj"]}


def test_a_head_sees_the_people_of_their_own_department_only(city, client):
    client.force_login(city.head)
    response = client.get(URL)
    assert response.status_code == 200
    assert _names(response) == {"Hana Head", "Rick Requester", "Olive Officer", "Andy Analyst"}


def test_the_head_of_another_department_does_not_see_police_people(city, client):
    client.force_login(city.outsider)
    response = client.get(URL)
    assert _names(response) == {"Oscar Outsider", "Wendy Worker"}
    assert "Olive Officer" not in response.content.decode()


def test_itsa_sees_everyone(city, client):
    client.force_login(city.itsa)
    response = client.get(URL)
    assert _names(response) == set(User.objects.values_list("full_name", flat=True))


def test_someone_without_a_department_role_sees_nobody(city, client):
    client.force_login(city.officer)
    response = client.get(URL)
    assert response.status_code == 200
    assert _names(response) == set()


def test_anonymous_visitors_are_sent_to_sign_in(city, client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("q", ["olive", "OFFICER@police", "patrol sergeant"])
def test_the_search_finds_people_by_name_email_or_title(city, client, q):
    User.objects.filter(pk=city.officer.pk).update(title="Patrol Sergeant")
    client.force_login(city.head)
    response = client.get(URL, {"q": q})
    assert _names(response) == {"Olive Officer"}


def test_the_department_filter_narrows_the_list(city, client):
    client.force_login(city.itsa)
    response = client.get(URL, {"department": city.streets.pk})
    assert _names(response) == {"Oscar Outsider", "Wendy Worker"}


def test_the_department_filter_offers_only_departments_the_viewer_may_see(city, client):
    client.force_login(city.outsider)
    response = client.get(URL, {"department": city.police.pk})
    assert list(response.context["form"].fields["department"].queryset) == [city.streets]
    assert "Police Department" not in response.content.decode()
    assert _names(response) <= {"Oscar Outsider", "Wendy Worker"}


def test_the_list_counts_live_grants_only(city, client):
    provisioned(city, person=city.officer)
    removed = provisioned(city, person=city.analyst).grant
    Grant.objects.filter(pk=removed.pk).update(status=Grant.Status.REMOVED, ended_at=timezone.now())
    client.force_login(city.head)
    response = client.get(URL)
    counts = {person.full_name: person.live_grant_count for person in response.context["page_obj"]}
    assert counts["Olive Officer"] == 1
    assert counts["Andy Analyst"] == 0


def _crowd(city, count):
    """`count` more police officers, each holding one live grant."""
    for index in range(count):
        person = User.objects.create_user(email=f"p{index}@police.example", full_name=f"Pat {index:03}",
                                          department=city.police)
        Grant.objects.create(person=person, system=city.vms, department=city.police, role="end_user",
                             account_name=f"pat{index}", provisioned_at=timezone.now(), provisioned_by=city.itsa)


@pytest.mark.parametrize("rows", [10, 40])
def test_the_list_runs_a_bounded_number_of_queries_whatever_the_row_count(
    city, client, settings, django_assert_max_num_queries, rows
):
    settings.PAGE_SIZE = 100
    _crowd(city, rows)
    client.force_login(city.head)
    with django_assert_max_num_queries(10):
        response = client.get(URL)
    assert len(response.context["page_obj"]) == rows + 4


def test_the_list_paginates(city, client, settings):
    settings.PAGE_SIZE = 3
    client.force_login(city.itsa)
    first = client.get(URL, {"q": "example"})
    second = client.get(URL, {"q": "example", "page": 2})
    assert len(first.context["page_obj"]) == 3
    assert _names(first).isdisjoint(_names(second))
    assert "q=example&amp;page=2" in first.content.decode()
