"""Department access (S3.4a, S3.4b): the head asks with a business need, the Mayor's designee decides."""

import pytest

from accounts.models import DESIGNEE_GROUP, Department, User
from accounts.services import department_set_head, role_group
from portal.errors import NotAllowed, RuleViolation
from portal.models import AuditEvent, IntendedUse
from access_requests.models import DepartmentAccess
from access_requests.services import department_access_decide, department_access_request, department_is_authorized


@pytest.fixture
def public_safety(db):
    return IntendedUse.objects.get(code="public-safety")


def _ask(city, *, uses, system=None, need="Reading plates of stolen vehicles for patrol.", by=None):
    return department_access_request(
        department=city.police, system=system or city.lpr, intended_uses=uses, business_need=need, by=by or city.head
    )


def test_the_head_asks_for_department_access_with_a_business_need(city, public_safety):
    """S3.4a"""
    access = _ask(city, uses=[public_safety])

    assert access.status == DepartmentAccess.Status.PENDING
    assert access.requested_by == city.head
    assert list(access.intended_uses.all()) == [public_safety]
    assert not department_is_authorized(department=city.police, system=city.lpr)


def test_an_authorized_requester_who_is_not_the_head_cannot_ask_for_department_access(city, public_safety):
    """S3.4a: department access is the head's request."""
    with pytest.raises(NotAllowed):
        _ask(city, uses=[public_safety], by=city.requester)

    assert not DepartmentAccess.objects.filter(system=city.lpr).exists()


def test_the_head_of_another_department_cannot_ask_for_this_one(city, public_safety):
    """S3.4a"""
    with pytest.raises(NotAllowed):
        _ask(city, uses=[public_safety], by=city.outsider)

    assert not DepartmentAccess.objects.filter(system=city.lpr).exists()


@pytest.mark.parametrize("need", ["", "   "])
def test_department_access_without_a_business_need_is_refused(city, public_safety, need):
    """S3.4a: the business need tied to service delivery is required."""
    with pytest.raises(RuleViolation) as refusal:
        _ask(city, uses=[public_safety], need=need)

    assert refusal.value.field == "business_need"
    assert not DepartmentAccess.objects.filter(system=city.lpr).exists()


def test_department_access_without_an_intended_use_is_refused(city):
    """S3.4a"""
    with pytest.raises(RuleViolation) as refusal:
        _ask(city, uses=[])

    assert refusal.value.field == "intended_uses"
    assert not DepartmentAccess.objects.filter(system=city.lpr).exists()


def test_asking_again_while_a_request_is_pending_is_refused(city, public_safety):
    """S3.4a"""
    _ask(city, uses=[public_safety])

    with pytest.raises(RuleViolation):
        _ask(city, uses=[public_safety])

    assert DepartmentAccess.objects.filter(department=city.police, system=city.lpr).count() == 1


def test_asking_for_a_system_the_department_already_has_is_refused(city, public_safety):
    """S3.4a"""
    with pytest.raises(RuleViolation):
        _ask(city, uses=[public_safety], system=city.vms)

    assert DepartmentAccess.objects.filter(department=city.police, system=city.vms).count() == 1


def test_asking_again_after_a_denial_is_accepted(city, public_safety):
    """S3.4a"""
    first = _ask(city, uses=[public_safety])
    department_access_decide(access=first, grant=False, reason="Not tied to service delivery.", by=city.designee)

    second = _ask(city, uses=[public_safety], need="Plates of stolen vehicles, for the patrol division.")

    assert second.pk != first.pk and second.is_pending


def test_the_designee_grants_department_access_with_a_reason(city, public_safety):
    """S3.4b"""
    access = _ask(city, uses=[public_safety])

    access = department_access_decide(access=access, grant=True, reason="Tied to patrol.", by=city.designee)

    assert access.status == DepartmentAccess.Status.GRANTED
    assert access.decided_by == city.designee and access.decided_at is not None
    assert access.decision_reason == "Tied to patrol."
    assert department_is_authorized(department=city.police, system=city.lpr)


def test_the_designee_denies_department_access_with_a_reason(city, public_safety):
    """S3.4b"""
    access = _ask(city, uses=[public_safety])

    access = department_access_decide(access=access, grant=False, reason="No service need.", by=city.designee)

    assert access.status == DepartmentAccess.Status.DENIED
    assert not department_is_authorized(department=city.police, system=city.lpr)


@pytest.mark.parametrize("who", ["itsa", "head", "outsider"])
def test_only_the_designee_decides_department_access(city, public_safety, who):
    """S3.4b"""
    access = _ask(city, uses=[public_safety])
    actor = getattr(city, who)

    with pytest.raises(NotAllowed):
        department_access_decide(access=access, grant=True, reason="Looks fine.", by=actor)

    access.refresh_from_db()
    assert access.is_pending
    assert AuditEvent.objects.filter(actor=actor, action="department_access.decide", outcome="denied").exists()


def test_a_designee_who_heads_a_department_cannot_decide_their_own_request(city, public_safety):
    """S3.4b: the decider is never the one who asked."""
    board = Department.objects.create(name="Parking Board", code="parking", kind=Department.Kind.BOARD)
    chair = User.objects.create_user(email="chair@parking.example", full_name="Cora Chair", department=board)
    chair.groups.add(role_group(DESIGNEE_GROUP))
    board = department_set_head(department=board, head=chair, by=city.itsa)
    access = department_access_request(
        department=board, system=city.lpr, intended_uses=[public_safety], business_need="Parking enforcement.",
        by=chair,
    )

    with pytest.raises(NotAllowed):
        department_access_decide(access=access, grant=True, reason="Mine.", by=chair)

    access.refresh_from_db()
    assert access.is_pending
    assert AuditEvent.objects.filter(actor=chair, action="department_access.decide", outcome="denied").exists()
    access = department_access_decide(access=access, grant=True, reason="Parking enforcement.", by=city.designee)
    assert access.decided_by == city.designee


@pytest.mark.parametrize("reason", ["", "  \n "])
def test_a_decision_without_a_reason_is_refused(city, public_safety, reason):
    """S3.4b"""
    access = _ask(city, uses=[public_safety])

    with pytest.raises(RuleViolation) as refusal:
        department_access_decide(access=access, grant=True, reason=reason, by=city.designee)

    assert refusal.value.field == "reason"
    access.refresh_from_db()
    assert access.is_pending and access.decided_by is None


def test_deciding_twice_the_same_way_has_one_effect(city, public_safety):
    """S3.4b: a double-submitted decision."""
    access = _ask(city, uses=[public_safety])

    department_access_decide(access=access, grant=True, reason="Tied to patrol.", by=city.designee)
    again = department_access_decide(access=access, grant=True, reason="Second click.", by=city.designee)

    assert again.decision_reason == "Tied to patrol."
    assert AuditEvent.objects.filter(action="department_access.granted", target=str(again)).count() == 1
    assert access.history.filter(status=DepartmentAccess.Status.GRANTED).count() == 1


def test_deciding_a_decided_request_the_other_way_is_refused(city, public_safety):
    """S3.4b"""
    access = _ask(city, uses=[public_safety])
    department_access_decide(access=access, grant=True, reason="Tied to patrol.", by=city.designee)

    with pytest.raises(RuleViolation):
        department_access_decide(access=access, grant=False, reason="Changed my mind.", by=city.designee)

    access.refresh_from_db()
    assert access.status == DepartmentAccess.Status.GRANTED


def test_another_designee_cannot_decide_a_decided_request_again(city, public_safety):
    """S3.4b"""
    other = User.objects.create_user(email="designee2@city.example", full_name="Del Designee")
    other.groups.add(role_group(DESIGNEE_GROUP))
    access = _ask(city, uses=[public_safety])
    department_access_decide(access=access, grant=False, reason="No service need.", by=city.designee)

    with pytest.raises(RuleViolation):
        department_access_decide(access=access, grant=True, reason="I disagree.", by=other)

    access.refresh_from_db()
    assert access.status == DepartmentAccess.Status.DENIED and access.decided_by == city.designee
