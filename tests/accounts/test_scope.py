"""The order's scope (S1): it covers departments, boards and commissions under the Mayor. A body
outside it (an outside entity, another elected branch, a state or federal agency) is never given
access, and a body is not taken out of scope while it still holds access."""

import pytest
from conftest import file_request, messages_of
from django.urls import reverse

from accounts.models import Department, Grant, User
from accounts.services import department_set_head, department_set_scope, grant_open, out_of_scope_problem
from access_requests.models import AccessRequest, DepartmentAccess
from access_requests.services import (
    access_request_approve, access_request_provision, department_access_decide, department_access_request,
)
from portal.errors import NotAllowed, RuleViolation
from portal.models import AuditEvent, IntendedUse


@pytest.fixture
def public_safety(db):
    return IntendedUse.objects.get(code="public-safety")


@pytest.fixture
def fusion(city):
    """A state agency's liaison office, on file but outside the order, with a head."""
    department = Department.objects.create(name="State Fusion Center", code="state-fusion", in_scope=False)
    chief = User.objects.create_user(email="chief@fusion.example", password="x", full_name="Cara Chief",
                                     department=department)
    return department_set_head(department=department, head=chief, by=city.itsa)


def _take_police_out_of_scope(city):
    # The flag set under the service, as a body with access on file from before the rule would stand.
    Department.objects.filter(pk=city.police.pk).update(in_scope=False)
    city.police.refresh_from_db()


def test_existing_and_new_departments_are_in_scope_by_default(city):
    """S1"""
    assert city.police.in_scope and city.streets.in_scope
    assert Department.objects.create(name="Parks Board", code="parks", kind="board").in_scope
    assert out_of_scope_problem(department=city.police) is None


def test_an_outside_body_cannot_ask_for_department_access(city, fusion, public_safety):
    """S1: the way around: before, an outside body's head could ask for access like any department's."""
    with pytest.raises(RuleViolation, match="Section 1"):
        department_access_request(department=fusion, system=city.vms, intended_uses=[public_safety],
                                  business_need="Shared investigations.", by=fusion.head)
    assert not DepartmentAccess.objects.filter(department=fusion).exists()
    assert AuditEvent.objects.filter(action="department_access.request", outcome="refused",
                                     target=str(fusion)).exists()


def test_department_access_cannot_be_granted_to_a_body_taken_out_of_scope_but_can_be_denied(
        city, public_safety):
    """S1: a request asked while in scope is not granted once the body is recorded outside it."""
    parks = Department.objects.create(name="Parks Board", code="parks", kind="board")
    chief = User.objects.create_user(email="chief@parks.example", password="x", full_name="Pat Parks",
                                     department=parks)
    parks = department_set_head(department=parks, head=chief, by=city.itsa)
    access = department_access_request(department=parks, system=city.vms, intended_uses=[public_safety],
                                       business_need="Park patrols.", by=chief)
    # A pending request is no access held: the body may be taken out of scope.
    department_set_scope(department=parks, in_scope=False, by=city.itsa)
    with pytest.raises(RuleViolation, match="outside the order's scope: Section 1"):
        department_access_decide(access=access, grant=True, reason="Tied to patrols.", by=city.designee)
    access.refresh_from_db()
    assert access.status == DepartmentAccess.Status.PENDING
    assert AuditEvent.objects.filter(action="department_access.decide", outcome="refused").exists()
    department_access_decide(access=access, grant=False, reason="Outside the order.", by=city.designee)
    access.refresh_from_db()
    assert access.status == DepartmentAccess.Status.DENIED


def test_no_access_request_is_filed_for_an_outside_body(city):
    """S1: the way around: the police's department access on file let its requests through."""
    _take_police_out_of_scope(city)
    with pytest.raises(RuleViolation, match="Section 1"):
        file_request(city)
    assert not AccessRequest.objects.exists()
    assert AuditEvent.objects.filter(action="access_request.submit", outcome="refused",
                                     detail__contains="Section 1").exists()


def test_a_request_filed_in_scope_is_neither_approved_nor_provisioned_once_the_body_is_out(city):
    """S1"""
    awaiting = file_request(city, by=city.requester)
    with_itsa = file_request(city, person=city.analyst, by=city.head)
    assert awaiting.is_awaiting_head and with_itsa.is_with_itsa
    _take_police_out_of_scope(city)
    with pytest.raises(RuleViolation, match="Section 1"):
        access_request_approve(request=awaiting, by=city.head)
    with pytest.raises(RuleViolation, match="Section 1"):
        access_request_provision(request=with_itsa, by=city.itsa, account_name="andy")
    assert not Grant.objects.exists()
    assert AccessRequest.objects.get(pk=awaiting.pk).is_awaiting_head


def test_no_grant_opens_for_an_outside_body_whatever_the_path(city):
    """S1: the backstop in grant_open, for the paths that do not go through a request."""
    _take_police_out_of_scope(city)
    with pytest.raises(RuleViolation, match="Section 1"):
        grant_open(person=city.officer, system=city.vms, department=city.police, role="end_user",
                   account_name="oofficer", permissible_uses=[city.crime_detection], by=city.itsa)
    assert not Grant.objects.exists()


def test_access_already_held_can_still_be_removed(city, grant):
    """S1: only giving access is refused; taking it away stays open."""
    _take_police_out_of_scope(city)
    request = file_request(city, action="remove", by=city.head)
    access_request_provision(request=request, by=city.itsa)
    grant.refresh_from_db()
    assert grant.status == Grant.Status.REMOVED


def test_a_body_holding_access_is_not_taken_out_of_scope(city, grant):
    """S1: the way around: before, unticking the flag left the police's grants and access in place."""
    with pytest.raises(RuleViolation, match="1 live grant and granted department access to 1 system"):
        department_set_scope(department=city.police, in_scope=False, by=city.itsa)
    city.police.refresh_from_db()
    assert city.police.in_scope
    assert AuditEvent.objects.filter(action="department.set_scope", outcome="refused").exists()


def test_a_body_without_access_is_taken_out_of_scope_by_itsa_only(city, fusion):
    """S1"""
    parks = Department.objects.create(name="Parks Board", code="parks", kind="board")
    with pytest.raises(NotAllowed):
        department_set_scope(department=parks, in_scope=False, by=city.designee)
    assert AuditEvent.objects.filter(actor=city.designee, action="department.set_scope", outcome="denied").exists()
    parks = department_set_scope(department=parks, in_scope=False, by=city.itsa)
    assert not Department.objects.get(pk=parks.pk).in_scope
    assert AuditEvent.objects.filter(action="department.set_scope", actor=city.itsa, target=str(parks),
                                     outcome=AuditEvent.Outcome.SUCCESS).exists()
    department_set_scope(department=fusion, in_scope=True, by=city.itsa)
    assert Department.objects.get(pk=fusion.pk).in_scope


# --- the admin -----------------------------------------------------------------------------------

@pytest.fixture
def itsa_admin(city, client):
    User.objects.filter(pk=city.itsa.pk).update(is_staff=True, is_superuser=True)
    client.force_login(city.itsa)
    return client


def _change(client, department, **changes):
    form = {"name": department.name, "code": department.code, "kind": department.kind,
            "head": department.head_id or "", **changes}
    return client.post(reverse("admin:accounts_department_change", args=[department.pk]), form)


def test_the_admin_refuses_to_take_a_body_with_access_out_of_scope(city, itsa_admin):
    """S1"""
    response = _change(itsa_admin, city.police, in_scope="false", name="Renamed Police")
    assert response.status_code == 302
    city.police.refresh_from_db()
    assert (city.police.name, city.police.in_scope) == ("Police Department", True)
    assert any("Nothing was saved" in m and "Section 1" in m for m in messages_of(response, levels=False))


def test_the_admin_takes_a_body_without_access_out_of_scope_and_back(city, itsa_admin):
    """S1"""
    parks = Department.objects.create(name="Parks Board", code="parks", kind="board")
    assert _change(itsa_admin, parks, in_scope="false").status_code == 302
    parks.refresh_from_db()
    assert not parks.in_scope
    assert AuditEvent.objects.filter(action="department.set_scope", actor=city.itsa, target=str(parks)).exists()
    # A form that leaves the choice out keeps the scope as it is.
    _change(itsa_admin, parks, name="Parks and Recreation Board")
    parks.refresh_from_db()
    assert (parks.name, parks.in_scope) == ("Parks and Recreation Board", False)
    _change(itsa_admin, parks, in_scope="true")
    parks.refresh_from_db()
    assert parks.in_scope


def test_the_admin_form_offers_the_scope_as_a_choice(city, itsa_admin):
    """S1"""
    page = itsa_admin.get(reverse("admin:accounts_department_change", args=[city.police.pk])).content.decode()
    assert "Outside the order&#x27;s scope (Section 1)" in page
    assert '<option value="true" selected>Under the Mayor' in page


# --- the pages -----------------------------------------------------------------------------------

def test_the_department_page_shows_the_scope(city, client):
    """S1"""
    client.force_login(city.head)
    page = client.get(reverse("accounts:department", args=[city.police.pk])).content.decode()
    assert "Under the Mayor: covered by the order" in page
    _take_police_out_of_scope(city)
    page = client.get(reverse("accounts:department", args=[city.police.pk])).content.decode()
    assert "Outside the order" in page and "cannot be given access" in page


def test_the_department_access_form_shows_the_refusal_for_an_outside_body(city, fusion, public_safety, client):
    """S1"""
    client.force_login(fusion.head)
    response = client.post(reverse("requests:department_access_new"), {
        "department": fusion.pk, "system": city.vms.pk, "intended_uses": [public_safety.pk],
        "business_need": "Shared investigations.",
    })
    assert response.status_code == 200
    assert "Section 1" in response.content.decode()
    assert not DepartmentAccess.objects.filter(department=fusion).exists()
