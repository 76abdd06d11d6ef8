"""The head keeps every item not decided yet in one step, after an explicit confirmation (S3.4e)."""

import pytest
from conftest import messages_of, open_validation
from django.urls import reverse

from audits.models import ValidationItem
from audits.services import validation_item_decide
from portal.models import AuditEvent

Decision = ValidationItem.Decision


def _keep_all(client, validation, **data):
    return client.post(reverse("audits:keep_all", args=[validation.pk]), data)


def _decisions(validation):
    return sorted(validation.items.values_list("grant__person__email", "decision"))


def test_the_head_keeps_every_undecided_item_and_leaves_a_revocation_as_it_is(city, client):
    """S3.4e"""
    validation = open_validation(city)
    validation_item_decide(item=validation.items.get(grant__person=city.officer), decision="revoke",
                           reason="Left the unit.", by=city.head)
    client.force_login(city.head)

    response = _keep_all(client, validation, confirm="on")

    assert response.status_code == 302 and response.url == validation.get_absolute_url()
    assert _decisions(validation) == [(city.analyst.email, Decision.KEEP), (city.officer.email, Decision.REVOKE)]
    assert validation.items.get(grant__person=city.analyst).decided_by == city.head
    level, text = messages_of(response)[-1]
    assert level == "success" and "1 access" in text


def test_keep_all_refuses_get(city, client):
    validation = open_validation(city)
    client.force_login(city.head)

    assert client.get(reverse("audits:keep_all", args=[validation.pk])).status_code == 405
    assert not validation.items.exclude(decision=Decision.PENDING).exists()


def test_the_head_of_another_department_gets_404_and_nothing_changes(city, client):
    validation = open_validation(city)
    client.force_login(city.outsider)

    assert _keep_all(client, validation, confirm="on").status_code == 404
    assert not validation.items.exclude(decision=Decision.PENDING).exists()
    assert AuditEvent.objects.filter(actor=city.outsider, action="validation.view", outcome="denied").exists()


def test_a_second_keep_all_has_no_second_effect(city, client):
    validation = open_validation(city)
    client.force_login(city.head)
    _keep_all(client, validation, confirm="on")
    decided_at = sorted(validation.items.values_list("decided_at", flat=True))

    response = _keep_all(client, validation, confirm="on")

    assert sorted(validation.items.values_list("decided_at", flat=True)) == decided_at
    assert messages_of(response)[-1][0] == "info"


def test_keep_all_without_the_confirmation_is_refused_with_a_message(city, client):
    """S3.4e: "keep all still to decide" needs an explicit confirmation."""
    validation = open_validation(city)
    client.force_login(city.head)

    response = _keep_all(client, validation)

    assert response.status_code == 302
    assert not validation.items.exclude(decision=Decision.PENDING).exists()
    level, text = messages_of(response)[-1]
    assert level == "error" and "Confirm" in text


@pytest.mark.parametrize("who", ["requester", "itsa", "designee"])
def test_only_the_head_keeps_all(city, client, who):
    validation = open_validation(city)
    client.force_login(getattr(city, who))

    response = _keep_all(client, validation, confirm="on")

    assert not validation.items.exclude(decision=Decision.PENDING).exists()
    level, text = messages_of(response)[-1]
    assert level == "error" and "Only the head" in text
