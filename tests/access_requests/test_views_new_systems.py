"""The request form offers only the systems the department may name: those it is authorized for
(S3.4a), and those its people still hold access to, so that access can always be removed."""

from conftest import provisioned
from django.urls import reverse

from accounts.models import Grant


def _offered(client, user):
    client.force_login(user)
    response = client.get(reverse("requests:new"))
    assert response.status_code == 200
    return set(response.context["form"].fields["system"].queryset)


def test_the_form_offers_the_systems_the_department_is_authorized_for_and_no_other(city, client):
    """S3.4a"""
    assert _offered(client, city.head) == {city.vms}


def test_a_system_the_departments_people_still_hold_stays_offered_so_that_access_can_be_removed(city, client):
    """S3.4a"""
    grant = provisioned(city, person=city.officer).grant
    type(grant).objects.filter(pk=grant.pk).update(system=city.lpr)  # as a city's imported accounts may be

    assert _offered(client, city.head) == {city.vms, city.lpr}


def test_a_removed_grant_does_not_keep_a_system_offered(city, client):
    grant = provisioned(city, person=city.officer).grant
    type(grant).objects.filter(pk=grant.pk).update(system=city.lpr, status=Grant.Status.REMOVED)

    assert _offered(client, city.head) == {city.vms}


def test_posting_a_system_the_department_may_not_name_is_a_form_error_and_files_nothing(city, client):
    """S3.4a: the way around the form (a hand-made POST) gets a clear error, not a request."""
    client.force_login(city.head)
    response = client.post(reverse("requests:new"), {
        "department": city.police.pk, "person": city.officer.pk, "system": city.traffic.pk, "action": "add",
        "role": "end_user", "permissible_uses": [city.crime_detection.pk], "justification": "Patrol.",
    })

    assert response.status_code == 200
    assert "not authorized to use this system" in response.context["form"].errors["system"][0]
    assert not city.officer.access_requests.exists()
