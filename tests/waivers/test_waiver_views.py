"""The waiver pages: asking, the waiver page with the forms for whoever may act, deciding, the
Mayor's decision, revoking, the list, and the grant page showing its waivers in force."""

from datetime import timedelta

import pytest
from conftest import messages_of, provisioned
from django.urls import reverse
from django.utils import timezone

from accounts.models import Grant
from waivers import services as waiver_services
from waivers.models import Waiver
from portal.models import IntendedUse

Status = Waiver.Status


def _ask(city, grant, *, days=3, by=None, deviation="Wider coverage around the stadium."):
    return waiver_services.waiver_request(
        department=city.police, intended_use=IntendedUse.objects.get(code="public-safety"), deviation=deviation,
        basis="safety", justification="A crowd of 60,000.", grants=[grant], starts_on=timezone.localdate(),
        days=days, by=by or city.head,
    )


def _post_data(city, grant, **changes):
    data = {
        "department": city.police.pk, "intended_use": IntendedUse.objects.get(code="public-safety").pk,
        "permissible_use": city.crime_detection.pk, "deviation": "Wider coverage.", "basis": "safety",
        "justification": "A crowd of 60,000.", "grants": [grant.pk], "starts_on": timezone.localdate().isoformat(),
        "days": "3",
    }
    data.update(changes)
    return data


# --- Asking -------------------------------------------------------------------------------------

def test_the_head_finds_end_user_grants_only(client, city, directors, grant):
    admin = provisioned(city, person=city.analyst, role="administrator", by=city.head).grant
    client.force_login(city.head)
    response = client.get(reverse("waivers:new"))
    assert response.status_code == 200
    assert "never waivable" in response.content.decode()
    body = client.get(reverse("waivers:new"), {"find": "grants", "grants_q": "police.example"}).content.decode()
    assert "Olive Officer, Citywide VMS (end user" in body
    assert admin.person.full_name not in body


def test_the_head_asks_and_lands_on_the_waiver(client, city, directors, grant):
    """S5.1a"""
    client.force_login(city.head)
    response = client.post(reverse("waivers:new"), _post_data(city, grant))
    waiver = Waiver.objects.get()
    assert response.status_code == 302 and response["Location"] == waiver.get_absolute_url()
    assert (waiver.status, waiver.requested_by, list(waiver.grants.all())) == (Status.REQUESTED, city.head, [grant])
    assert waiver.permissible_use == city.crime_detection and waiver.days == 3


@pytest.mark.parametrize(("changes", "message"), [
    ({"days": "366"}, "from 1 to 365 days"),
    ({"days": "0"}, "from 1 to 365 days"),
    ({"days": str(10**20)}, "from 1 to 365 days"),
    ({"basis": ""}, "This field is required"),
    ({"starts_on": "2001-01-01"}, "cannot start in the past"),
    ({"starts_on": "9999-12-31"}, "coming months"),
    ({"days": "abc", "starts_on": "not a date"}, "Enter a whole number"),
    ({"grants": [str(2**70)]}, "is not a valid value"),
    ({"justification": "\x00"}, "Null characters are not allowed"),
])
def test_a_refused_request_shows_why_and_writes_nothing(client, city, directors, grant, changes, message):
    client.force_login(city.head)
    response = client.post(reverse("waivers:new"), _post_data(city, grant, **changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Waiver.objects.exists()


def test_a_staff_grant_posted_anyway_is_refused_by_separation_of_duties(client, city, directors, grant):
    """S3.2a S3.2b: never waivable, whatever the page is sent."""
    admin = provisioned(city, person=city.analyst, role="administrator", by=city.head).grant
    client.force_login(city.head)
    response = client.post(reverse("waivers:new"), _post_data(city, grant, grants=[admin.pk]))
    assert response.status_code == 200
    assert "separation of duties (Section 3.2) is never waivable" in response.content.decode()
    assert not Waiver.objects.exists()


def test_a_director_first_chooses_the_department(client, city, directors, grant):
    client.force_login(directors.safety)
    response = client.get(reverse("waivers:new"))
    assert response.status_code == 200 and "Continue" in response.content.decode()
    assert "Olive Officer" not in response.content.decode()
    response = client.get(reverse("waivers:new"), {"department": city.police.pk, "find": "grants", "grants_q": "olive"})
    assert "Olive Officer, Citywide VMS (end user" in response.content.decode()
    response = client.post(reverse("waivers:new"), _post_data(city, grant))
    assert Waiver.objects.get().requested_by == directors.safety


@pytest.mark.parametrize("who", ["requester", "officer", "itsa", "designee"])
def test_the_form_does_not_exist_for_others(client, city, who):
    client.force_login(getattr(city, who))
    assert client.get(reverse("waivers:new")).status_code == 404


# --- The waiver page ----------------------------------------------------------------------------

def test_the_page_shows_the_row_of_table_1_the_grants_and_the_directors_form(client, city, directors, grant):
    waiver = _ask(city, grant, days=31)
    client.force_login(directors.operations)
    body = client.get(waiver.get_absolute_url()).content.decode()
    assert "The row of Table 1 it departs from" in body and "Specific individuals and groups" in body
    assert "Olive Officer" in body and "Timeline" in body
    assert "more than 30" in body
    assert reverse("waivers:decide", args=[waiver.pk]) in body
    assert reverse("waivers:mayor", args=[waiver.pk]) not in body


def test_the_asker_and_the_department_see_no_decision_form(client, city, directors, grant):
    waiver = _ask(city, grant, by=directors.safety)
    for person in (directors.safety, city.head, city.requester, city.itsa, city.designee):
        client.force_login(person)
        response = client.get(waiver.get_absolute_url())
        assert response.status_code == 200
        assert reverse("waivers:decide", args=[waiver.pk]) not in response.content.decode(), person


@pytest.mark.parametrize("who", ["officer", "outsider", "streets_worker"])
def test_the_page_does_not_exist_for_people_outside(client, city, directors, grant, who):
    waiver = _ask(city, grant)
    client.force_login(getattr(city, who))
    assert client.get(waiver.get_absolute_url()).status_code == 404


# --- Deciding, the Mayor, revoking ----------------------------------------------------------------

def test_a_director_grants_and_the_waiver_is_in_force(client, city, directors, grant):
    """S5.1a: the decision names its decider."""
    waiver = _ask(city, grant)
    client.force_login(directors.safety)
    url = reverse("waivers:decide", args=[waiver.pk])
    assert client.get(url).status_code == 405
    response = client.post(url, {"decision": "grant", "reason": "For the stadium event."})
    assert response.status_code == 302
    waiver.refresh_from_db()
    assert (waiver.status, waiver.decided_by) == (Status.GRANTED, directors.safety)
    assert messages_of(response, levels=False) == ["The waiver is granted."]
    again = client.post(url, {"decision": "grant", "reason": "Again."})
    assert "Nothing changed" in messages_of(again, levels=False)[-1]
    # The page now offers the revocation, and shows the waiver as in force.
    body = client.get(waiver.get_absolute_url()).content.decode()
    assert "In force" in body and reverse("waivers:revoke", args=[waiver.pk]) in body


def test_the_director_who_asked_is_refused_with_a_message(client, city, directors, grant):
    waiver = _ask(city, grant, by=directors.operations)
    client.force_login(directors.operations)
    response = client.post(reverse("waivers:decide", args=[waiver.pk]), {"decision": "grant", "reason": "Mine."})
    assert response.status_code == 302
    assert "the other director must decide it" in messages_of(response, levels=False)[-1]
    waiver.refresh_from_db()
    assert waiver.status == Status.REQUESTED


def test_an_incomplete_decision_is_refused(client, city, directors, grant):
    waiver = _ask(city, grant)
    client.force_login(directors.safety)
    response = client.post(reverse("waivers:decide", args=[waiver.pk]), {"decision": "maybe", "reason": ""})
    assert "Choose to grant or deny" in messages_of(response, levels=False)[-1]
    waiver.refresh_from_db()
    assert waiver.status == Status.REQUESTED


def test_over_thirty_days_the_designee_records_the_mayors_approval(client, city, directors, grant):
    """S5.1b"""
    waiver = _ask(city, grant, days=60)
    client.force_login(directors.safety)
    response = client.post(reverse("waivers:decide", args=[waiver.pk]), {"decision": "grant", "reason": "Works."})
    assert "waits for the Mayor's approval" in messages_of(response, levels=False)[-1]
    waiver.refresh_from_db()
    assert waiver.status == Status.AWAITING_MAYOR and waiver.substantive_change

    client.force_login(city.designee)
    body = client.get(waiver.get_absolute_url()).content.decode()
    assert reverse("waivers:mayor", args=[waiver.pk]) in body and "Substantive change" in body
    url = reverse("waivers:mayor", args=[waiver.pk])
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = client.post(url, {"decision": "approve", "decided_on": tomorrow})
    assert "cannot be in the future" in messages_of(response, levels=False)[-1]
    response = client.post(url, {"decision": "approve", "decided_on": "garbage"})
    assert "was not recorded" in messages_of(response, levels=False)[-1]
    response = client.post(url, {"decision": "approve", "decided_on": timezone.localdate().isoformat()})
    waiver.refresh_from_db()
    assert (waiver.status, waiver.mayor_recorded_by) == (Status.GRANTED, city.designee)


def test_a_director_revokes_a_granted_waiver(client, city, directors, grant):
    waiver = waiver_services.waiver_decide(waiver=_ask(city, grant), grant=True, reason="Ok.", by=directors.safety)
    client.force_login(directors.operations)
    url = reverse("waivers:revoke", args=[waiver.pk])
    response = client.post(url, {"reason": ""})
    assert "Write the reason" in messages_of(response, levels=False)[-1]
    client.post(url, {"reason": "Event cancelled."})
    waiver.refresh_from_db()
    assert (waiver.status, waiver.ended_by) == (Status.REVOKED, directors.operations)


# --- The list and the grant page ------------------------------------------------------------------

def test_the_list_shows_the_waivers_in_force_first_and_filters_by_status(client, city, directors, grant, settings):
    settings.PAGE_SIZE = 2
    waiver_services.waiver_decide(waiver=_ask(city, grant, deviation="In force."), grant=True, reason="Ok.",
                          by=directors.safety)
    _ask(city, grant, deviation="Waiting one.")
    _ask(city, grant, deviation="Waiting two.")
    client.force_login(city.head)
    response = client.get(reverse("waivers:list"))
    rows = list(response.context["page_obj"])
    assert rows[0].status == Status.GRANTED and response.context["page_obj"].paginator.num_pages == 2
    response = client.get(reverse("waivers:list"), {"status": "requested"})
    assert {w.status for w in response.context["page_obj"]} == {Status.REQUESTED}
    assert client.get(reverse("waivers:list"), {"status": "nonsense", "page": "x"}).status_code == 200
    client.force_login(city.officer)
    response = client.get(reverse("waivers:list"))
    assert response.status_code == 200 and not response.context["page_obj"].object_list


def test_the_grant_page_shows_the_waivers_in_force(client, city, directors, grant):
    client.force_login(city.head)
    response = client.get(grant.get_absolute_url())
    assert "Waivers in force" in response.content.decode() and not response.context["waivers_in_force"]
    waiver = waiver_services.waiver_decide(waiver=_ask(city, grant), grant=True, reason="Ok.", by=directors.safety)
    _ask(city, grant, deviation="Not decided.")
    response = client.get(grant.get_absolute_url())
    assert list(response.context["waivers_in_force"]) == [waiver]
    assert waiver.get_absolute_url() in response.content.decode()
    assert Grant.objects.get(pk=grant.pk).waivers.count() == 2
