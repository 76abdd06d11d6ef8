"""The external connection pages (S3.6a, S3.6b, S3.6c): list, ask, renew, decide, withdraw."""

from datetime import timedelta

import pytest
from conftest import messages_of
from django.urls import reverse
from django.utils import timezone
from external_helpers import approved, ask

from external.models import ExternalConnection


def _form(city, **changes):
    today = timezone.localdate()
    data = {"department": city.police.pk, "name": "Transit station cameras", "owner": "Regional Transit Authority",
            "owner_contact": "security@transit.example", "systems": [city.vms.pk],
            "permissible_uses": [city.crime_detection.pk], "business_reasons": "Detect crime at stations.",
            "method": "secure_api", "connection_detail": "REST over TLS.", "starts_on": today.isoformat(),
            "ends_on": (today + timedelta(days=90)).isoformat()}
    data.update(changes)
    return data


@pytest.fixture
def pending(city):
    return ask(city)


# --- The list -------------------------------------------------------------------------------------------

def test_the_department_sees_its_connections_and_others_do_not(city, client, pending):
    """S3.6a"""
    streets = ask(city, department=city.streets, by=city.outsider, systems=[city.traffic],
                  uses=[city.traffic_monitoring], name="Signal vendor")
    client.force_login(city.requester)

    page = client.get(reverse("external:list")).content.decode()

    assert pending.get_absolute_url() in page
    assert streets.get_absolute_url() not in page


def test_the_list_searches_by_name_or_owner_and_filters_by_status(city, client, pending):
    other = approved(city, name="Airport cameras", owner="Airport Authority")
    client.force_login(city.designee)
    url = reverse("external:list")

    by_owner = client.get(url, {"q": "airport auth"}).content.decode()
    by_status = client.get(url, {"status": "pending"}).content.decode()
    odd = client.get(url, {"q": "\x00", "status": "nonsense"})

    assert other.get_absolute_url() in by_owner and pending.get_absolute_url() not in by_owner
    assert pending.get_absolute_url() in by_status and other.get_absolute_url() not in by_status
    assert odd.status_code == 200


def test_the_list_is_paginated(city, client, settings):
    settings.PAGE_SIZE = 2
    for index in range(3):
        ask(city, name=f"Camera feed {index}")
    client.force_login(city.head)

    first = client.get(reverse("external:list")).content.decode()
    second = client.get(reverse("external:list"), {"page": 2}).content.decode()

    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert second.count("Camera feed") == 1


def test_officers_and_directors_see_an_empty_list(city, client, directors, pending):
    for person in (city.officer, directors.safety):
        client.force_login(person)
        assert pending.get_absolute_url() not in client.get(reverse("external:list")).content.decode()


# --- Asking ---------------------------------------------------------------------------------------------

def test_the_head_asks_and_lands_on_the_request(city, client):
    """S3.6a S3.6b S3.6c"""
    client.force_login(city.head)
    assert client.get(reverse("external:new")).status_code == 200

    response = client.post(reverse("external:new"), _form(city))

    connection = ExternalConnection.objects.get()
    assert response.status_code == 302 and response["Location"] == connection.get_absolute_url()
    assert (connection.requested_by, connection.method, connection.status) == (city.head, "secure_api", "pending")


@pytest.mark.parametrize("who", ["requester", "officer", "itsa", "designee"])
def test_people_who_head_no_department_do_not_get_the_form(city, client, who):
    client.force_login(getattr(city, who))

    assert client.get(reverse("external:new")).status_code == 404
    assert client.post(reverse("external:new"), _form(city)).status_code == 404
    assert not ExternalConnection.objects.exists()


def test_an_insecure_method_is_refused_on_the_page(city, client):
    """S3.6b"""
    client.force_login(city.head)

    response = client.post(reverse("external:new"), _form(city, method="plain_http"))

    assert response.status_code == 200 and "was not sent" in response.content.decode()
    assert not ExternalConnection.objects.exists()


def test_the_services_refusal_shows_on_the_page(city, client):
    """S3.6a: 366 days is one too many."""
    client.force_login(city.head)
    today = timezone.localdate()

    response = client.post(reverse("external:new"),
                           _form(city, ends_on=(today + timedelta(days=366)).isoformat()))

    assert response.status_code == 200
    assert "at most 365 days" in response.content.decode()
    assert not ExternalConnection.objects.exists()


def test_missing_business_reasons_are_refused(city, client):
    """S3.6c"""
    client.force_login(city.head)

    response = client.post(reverse("external:new"), _form(city, business_reasons=""))

    assert response.status_code == 200
    assert not ExternalConnection.objects.exists()


def test_the_outsider_cannot_ask_for_the_police(city, client):
    client.force_login(city.outsider)

    response = client.post(reverse("external:new"), _form(city))

    assert response.status_code == 200
    assert not ExternalConnection.objects.exists()


def test_a_renewal_is_pre_filled_and_filed(city, client):
    """S3.6a: approved connections come up for renewal."""
    old = approved(city)
    client.force_login(city.head)

    page = client.get(reverse("external:new"), {"renews": old.pk}).content.decode()
    assert f'value="{old.ends_on.isoformat()}"' in page
    assert f'name="renews" value="{old.pk}"' in page

    data = _form(city, renews=old.pk, starts_on=old.ends_on.isoformat(),
                 ends_on=(old.ends_on + timedelta(days=365)).isoformat())
    response = client.post(reverse("external:new"), data)

    renewal = ExternalConnection.objects.get(renews=old)
    assert response["Location"] == renewal.get_absolute_url()
    old.refresh_from_db()
    assert old.status == "approved"


def test_renewing_what_the_head_cannot_see_answers_404(city, client):
    streets = ask(city, department=city.streets, by=city.outsider, systems=[city.traffic],
                  uses=[city.traffic_monitoring])
    client.force_login(city.head)

    assert client.get(reverse("external:new"), {"renews": streets.pk}).status_code == 404
    assert client.get(reverse("external:new"), {"renews": "abc"}).status_code == 404
    assert client.get(reverse("external:new"), {"renews": "9" * 30}).status_code == 404


# --- The request's page ----------------------------------------------------------------------------------

def test_the_designee_sees_the_decision_form_and_the_head_the_withdraw_button(city, client, pending):
    client.force_login(city.designee)
    as_designee = client.get(pending.get_absolute_url()).content.decode()
    client.force_login(city.head)
    as_head = client.get(pending.get_absolute_url()).content.decode()

    assert reverse("external:decide", args=[pending.pk]) in as_designee
    assert reverse("external:withdraw", args=[pending.pk]) not in as_designee
    assert reverse("external:decide", args=[pending.pk]) not in as_head
    assert reverse("external:withdraw", args=[pending.pk]) in as_head
    assert "Timeline" in as_head and "Regional Transit Authority" in as_head


def test_the_outsider_gets_404(city, client, pending):
    client.force_login(city.outsider)

    assert client.get(pending.get_absolute_url()).status_code == 404


def test_an_approved_connection_offers_the_head_its_renewal(city, client):
    old = approved(city)
    client.force_login(city.head)

    page = client.get(old.get_absolute_url()).content.decode()

    assert f"{reverse('external:new')}?renews={old.pk}" in page
    assert "Dana Designee" in page


# --- Deciding and withdrawing ----------------------------------------------------------------------------

def test_the_designee_approves_once(city, client, pending):
    """S3.6a: the decision names its decider."""
    client.force_login(city.designee)
    url = reverse("external:decide", args=[pending.pk])

    first = client.post(url, {"decision": "approve", "reason": "Crime detection at stations."})
    second = client.post(url, {"decision": "approve", "reason": "Crime detection at stations."})

    pending.refresh_from_db()
    assert (pending.status, pending.decided_by) == ("approved", city.designee)
    assert messages_of(first)[0][0] == "success"
    assert messages_of(second)[-1][0] == "info"


def test_the_asker_cannot_decide_and_the_page_says_so(city, client, pending):
    """S3.6a: never the person who asked."""
    client.force_login(city.head)

    response = client.post(reverse("external:decide", args=[pending.pk]), {"decision": "approve", "reason": "Mine."})

    pending.refresh_from_db()
    assert pending.status == "pending" and pending.decided_by is None
    assert messages_of(response) == [("error", "Only the Mayor's designee can approve or deny an external system "
                                               "connection (Section 3.6).")]


def test_a_decision_without_a_reason_changes_nothing(city, client, pending):
    client.force_login(city.designee)

    response = client.post(reverse("external:decide", args=[pending.pk]), {"decision": "approve", "reason": ""})

    pending.refresh_from_db()
    assert pending.status == "pending"
    assert messages_of(response)[0][0] == "error"


def test_state_changes_answer_get_with_405(city, client, pending):
    client.force_login(city.designee)

    assert client.get(reverse("external:decide", args=[pending.pk])).status_code == 405
    assert client.get(reverse("external:withdraw", args=[pending.pk])).status_code == 405


def test_the_head_withdraws_and_the_requester_cannot(city, client, pending):
    client.force_login(city.requester)
    refused = client.post(reverse("external:withdraw", args=[pending.pk]))
    pending.refresh_from_db()
    assert pending.status == "pending" and messages_of(refused)[0][0] == "error"

    client.force_login(city.head)
    client.post(reverse("external:withdraw", args=[pending.pk]))
    pending.refresh_from_db()
    assert pending.status == "withdrawn"
