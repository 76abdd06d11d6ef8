"""The inline rule feedback of the request form: the same rules the service applies, before filing."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Grant


def _preview(client, city, **changes):
    data = {"department": city.police.pk, "person": city.officer.pk, "system": city.vms.pk, "action": "add",
            "role": "end_user"}
    data.update(changes)
    return client.post(reverse("requests:preview"), data)


def test_a_request_no_rule_refuses_gets_a_reassuring_note(city, client):
    client.force_login(city.requester)

    response = _preview(client, city)

    assert response.status_code == 200
    assert "No rule stands in the way" in response.content.decode()


def test_separation_of_duties_shows_as_a_warning_before_filing(city, client):
    """S3.2a: an end user cannot also administer the system."""
    Grant.objects.create(person=city.officer, system=city.vms, department=city.police, role="end_user",
                         account_name="olive", provisioned_at=timezone.now(), provisioned_by=city.itsa)
    client.force_login(city.requester)

    page = _preview(client, city, role="administrator").content.decode()

    assert "usa-alert--warning" in page and "Section 3.2" in page


def test_a_system_the_department_may_not_use_shows_as_a_warning(city, client):
    client.force_login(city.requester)

    page = _preview(client, city, system=city.lpr.pk).content.decode()

    assert "usa-alert--warning" in page and "not authorized" in page


@pytest.mark.parametrize("changes", [
    {"person": ""}, {"system": "999999"}, {"department": "x"}, {"role": "emperor"}, {"action": "<b>"},
])
def test_missing_or_unknown_values_give_an_empty_answer(city, client, changes):
    client.force_login(city.requester)

    response = _preview(client, city, **changes)

    assert response.status_code == 200
    assert response.content.decode().strip() == ""


def test_another_departments_person_gives_an_empty_answer(city, client):
    """Nothing about another department's people leaks through the preview."""
    Grant.objects.create(person=city.streets_worker, system=city.traffic, department=city.streets, role="end_user",
                         account_name="wendy", provisioned_at=timezone.now(), provisioned_by=city.itsa)
    client.force_login(city.requester)

    response = _preview(client, city, person=city.streets_worker.pk, system=city.traffic.pk, role="administrator")

    assert response.content.decode().strip() == ""


def test_the_head_of_another_department_gets_an_empty_answer(city, client):
    client.force_login(city.outsider)

    assert _preview(client, city).content.decode().strip() == ""


def test_preview_refuses_get(city, client):
    client.force_login(city.requester)

    assert client.get(reverse("requests:preview")).status_code == 405
