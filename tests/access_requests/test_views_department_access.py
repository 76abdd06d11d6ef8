"""Department access (S3.4a, S3.4b): the head asks, the Mayor's designee grants or denies."""

import pytest
from conftest import messages_of
from django.urls import reverse

from portal.models import AuditEvent, IntendedUse
from access_requests.models import DepartmentAccess
from access_requests.services import department_access_request


@pytest.fixture
def public_safety(db):
    return IntendedUse.objects.get(code="public-safety")


@pytest.fixture
def pending(city, public_safety):
    return department_access_request(department=city.police, system=city.lpr, intended_uses=[public_safety],
                                     business_need="Finding stolen vehicles on patrol.", by=city.head)


def _ask(client, city, public_safety, **changes):
    data = {"department": city.police.pk, "system": city.lpr.pk, "intended_uses": [public_safety.pk],
            "business_need": "Finding stolen vehicles on patrol."}
    data.update(changes)
    return client.post(reverse("requests:department_access_new"), data)


def _decide(client, access, decision="grant", reason="Tied to patrol services."):
    return client.post(reverse("requests:department_access_decide", args=[access.pk]),
                       {"decision": decision, "reason": reason})


# --- the list ------------------------------------------------------------------------------------

def test_the_designee_sees_every_department_access_pending_first(city, client, pending):
    client.force_login(city.designee)

    page = client.get(reverse("requests:department_access_list")).content.decode()

    assert page.index(pending.get_absolute_url()) < page.index(city.police_vms.get_absolute_url())
    assert "Streets Department" in page


def test_a_head_sees_only_the_departments_own(city, client, pending):
    client.force_login(city.outsider)

    page = client.get(reverse("requests:department_access_list")).content.decode()

    assert pending.get_absolute_url() not in page
    assert "Streets Department" in page


def test_itsa_sees_granted_access_only(city, client, pending):
    client.force_login(city.itsa)

    page = client.get(reverse("requests:department_access_list")).content.decode()

    assert city.police_vms.get_absolute_url() in page
    assert pending.get_absolute_url() not in page


def test_the_list_searches_by_system(city, client, pending):
    client.force_login(city.designee)

    page = client.get(reverse("requests:department_access_list"), {"q": "plate"}).content.decode()

    assert pending.get_absolute_url() in page
    assert city.police_vms.get_absolute_url() not in page


# --- asking --------------------------------------------------------------------------------------

def test_the_head_sees_intended_uses_with_their_policy_and_conditions(city, client, public_safety):
    client.force_login(city.head)

    page = client.get(reverse("requests:department_access_new")).content.decode()

    assert public_safety.policy in page
    assert public_safety.condition_list()[0] in page


def test_the_head_asks_for_department_access(city, client, public_safety):
    """S3.4a"""
    client.force_login(city.head)

    response = _ask(client, city, public_safety)

    access = DepartmentAccess.objects.get(system=city.lpr)
    assert response.status_code == 302 and response.url == access.get_absolute_url()
    assert access.is_pending and access.requested_by == city.head
    assert list(access.intended_uses.all()) == [public_safety]


@pytest.mark.parametrize("who", ["requester", "officer", "itsa", "designee"])
def test_only_heads_reach_the_form(city, client, public_safety, who):
    """S3.4a"""
    client.force_login(getattr(city, who))

    assert client.get(reverse("requests:department_access_new")).status_code == 404
    assert _ask(client, city, public_safety).status_code == 404
    assert not DepartmentAccess.objects.filter(system=city.lpr).exists()


def test_the_head_of_another_department_cannot_ask_for_this_one(city, client, public_safety):
    client.force_login(city.outsider)

    response = _ask(client, city, public_safety)

    assert response.status_code == 200
    assert not DepartmentAccess.objects.filter(system=city.lpr).exists()


def test_asking_twice_creates_one_request(city, client, public_safety):
    client.force_login(city.head)
    _ask(client, city, public_safety)

    response = _ask(client, city, public_safety)

    assert response.status_code == 200
    assert DepartmentAccess.objects.filter(system=city.lpr).count() == 1
    assert 'id="id_system_error"' in response.content.decode()


def test_asking_for_a_system_already_granted_is_refused(city, client, public_safety):
    client.force_login(city.head)

    response = _ask(client, city, public_safety, system=city.vms.pk)

    assert response.status_code == 200
    assert "already has access" in response.content.decode()
    assert DepartmentAccess.objects.filter(system=city.vms).count() == 1


def test_asking_without_a_business_need_is_refused(city, client, public_safety):
    """S3.4a"""
    client.force_login(city.head)

    response = _ask(client, city, public_safety, business_need="")

    assert response.status_code == 200
    assert 'id="id_business_need_error"' in response.content.decode()
    assert not DepartmentAccess.objects.filter(system=city.lpr).exists()


# --- the page and the decision -------------------------------------------------------------------

def test_the_designee_sees_the_decision_form_and_the_head_does_not(city, client, pending):
    decide_url = reverse("requests:department_access_decide", args=[pending.pk])
    client.force_login(city.designee)
    assert decide_url in client.get(pending.get_absolute_url()).content.decode()

    client.force_login(city.head)
    page = client.get(pending.get_absolute_url()).content.decode()

    assert decide_url not in page
    assert "Finding stolen vehicles" in page and "Timeline" in page


def test_another_departments_access_answers_404_and_is_logged(city, client, pending):
    client.force_login(city.outsider)

    assert client.get(pending.get_absolute_url()).status_code == 404
    assert AuditEvent.objects.filter(actor=city.outsider, action="department_access.view", outcome="denied").exists()


def test_the_designee_grants_department_access(city, client, pending):
    """S3.4b"""
    client.force_login(city.designee)

    response = _decide(client, pending)

    assert response.status_code == 302 and response.url == pending.get_absolute_url()
    pending.refresh_from_db()
    assert pending.status == DepartmentAccess.Status.GRANTED
    assert pending.decided_by == city.designee and pending.decision_reason == "Tied to patrol services."


def test_the_designee_denies_department_access(city, client, pending):
    """S3.4b"""
    client.force_login(city.designee)

    _decide(client, pending, decision="deny", reason="No service need shown.")

    pending.refresh_from_db()
    assert pending.status == DepartmentAccess.Status.DENIED


def test_decide_refuses_get(city, client, pending):
    client.force_login(city.designee)

    assert client.get(reverse("requests:department_access_decide", args=[pending.pk])).status_code == 405
    pending.refresh_from_db()
    assert pending.is_pending


@pytest.mark.parametrize("who", ["outsider", "streets_worker"])
def test_a_decision_from_outside_answers_404(city, client, pending, who):
    client.force_login(getattr(city, who))

    assert _decide(client, pending).status_code == 404
    pending.refresh_from_db()
    assert pending.is_pending


def test_a_second_decision_has_no_second_effect(city, client, pending):
    client.force_login(city.designee)
    _decide(client, pending, reason="First.")
    decided_at = DepartmentAccess.objects.get(pk=pending.pk).decided_at

    response = _decide(client, pending, reason="Second.")

    pending.refresh_from_db()
    assert (pending.decided_at, pending.decision_reason) == (decided_at, "First.")
    assert messages_of(response)[-1][0] == "info"


def test_the_head_cannot_decide_their_own_departments_access(city, client, pending):
    """S3.4b: the Mayor's designee decides."""
    client.force_login(city.head)

    response = _decide(client, pending)

    pending.refresh_from_db()
    assert pending.is_pending
    level, text = messages_of(response)[-1]
    assert level == "error" and "designee" in text


def test_a_decision_without_a_reason_is_refused(city, client, pending):
    client.force_login(city.designee)

    response = _decide(client, pending, reason="")

    pending.refresh_from_db()
    assert pending.is_pending
    assert messages_of(response)[-1][0] == "error"
