"""The ask-and-decide block every workflow with a decider shares: its refusals, its one effect per
decision, and what a decision records. Department access stands in for any workflow."""

import pytest
from access_requests.models import DepartmentAccess
from access_requests.services import department_access_request
from portal.audit import service_transaction
from portal.decisions import decision_open, decision_record
from portal.errors import NotAllowed, RuleViolation
from portal.models import AuditEvent, IntendedUse

Status = DepartmentAccess.Status
STEPS = {"outcomes": (Status.GRANTED,), "pending": Status.PENDING, "what": "request", "action": "example.decide",
         "not_allowed": "Only a decider decides.", "asked": "You asked, so somebody else decides."}


@pytest.fixture
def asked(city):
    return department_access_request(
        department=city.police, system=city.lpr, intended_uses=[IntendedUse.objects.get(code="public-safety")],
        business_need="Reading plates of stolen vehicles.", by=city.head,
    )


@service_transaction
def _decide(record, *, by, reason="Tied to patrol.", may_decide=True, detail=""):
    """The shared steps as a workflow's service runs them: lock, check, record."""
    record = DepartmentAccess.objects.select_for_update().get(pk=record.pk)
    cleaned = decision_open(record, by=by, reason=reason, may_decide=may_decide, detail=detail, **STEPS)
    if cleaned is None:
        return record
    return decision_record(record, status=Status.GRANTED, reason=cleaned, by=by, action="example.granted",
                           detail="one detail", change_reason="Granted for the example")


def test_a_decider_who_asked_is_refused_and_the_refusal_is_audited(city, asked):
    with pytest.raises(NotAllowed) as refusal:
        _decide(asked, by=city.head, detail="own request")

    assert refusal.value.message == "You asked, so somebody else decides."
    asked.refresh_from_db()
    assert (asked.status, asked.decided_by, asked.decision_reason) == (Status.PENDING, None, "")
    assert AuditEvent.objects.filter(actor=city.head, action="example.decide", outcome="denied",
                                     target=str(asked), detail="own request").count() == 1


def test_a_person_whose_role_does_not_decide_is_refused_and_the_refusal_is_audited(city, asked):
    with pytest.raises(NotAllowed) as refusal:
        _decide(asked, by=city.outsider, may_decide=False)

    assert refusal.value.message == "Only a decider decides."
    asked.refresh_from_db()
    assert asked.status == Status.PENDING
    assert AuditEvent.objects.filter(actor=city.outsider, action="example.decide", outcome="denied").count() == 1


def test_a_decision_records_who_when_why_and_the_status(city, asked):
    decided = _decide(asked, by=city.designee, reason="  Tied to patrol.  ")

    decided.refresh_from_db()
    assert decided.status == Status.GRANTED
    assert decided.decided_by == city.designee
    assert decided.decided_at is not None and decided.decided_at >= decided.requested_at
    assert decided.decision_reason == "Tied to patrol."
    assert decided.history.latest().history_change_reason == "Granted for the example"
    assert AuditEvent.objects.filter(actor=city.designee, action="example.granted", outcome="success",
                                     target=str(decided), detail="one detail").count() == 1


def test_a_decision_without_a_reason_is_refused_and_nothing_is_written(city, asked):
    with pytest.raises(RuleViolation) as refusal:
        _decide(asked, by=city.designee, reason="   ")

    assert refusal.value.field == "reason"
    asked.refresh_from_db()
    assert (asked.status, asked.decided_by) == (Status.PENDING, None)


def test_the_same_decision_sent_twice_has_one_effect(city, asked):
    first = _decide(asked, by=city.designee)

    again = _decide(asked, by=city.designee, reason="Another reason.")

    again.refresh_from_db()
    assert (again.decided_at, again.decision_reason) == (first.decided_at, "Tied to patrol.")
    assert AuditEvent.objects.filter(action="example.granted").count() == 1


def test_a_second_decision_on_a_decided_record_is_refused_and_changes_nothing(city, asked):
    first = _decide(asked, by=city.designee)
    other = city.itsa

    with pytest.raises(RuleViolation) as refusal:
        _decide(asked, by=other, reason="Another reason.")

    assert refusal.value.message == "This request was already decided: granted."
    after = DepartmentAccess.objects.get(pk=asked.pk)
    assert (after.decided_by, after.decided_at, after.decision_reason) == (
        city.designee, first.decided_at, "Tied to patrol.")
    assert AuditEvent.objects.filter(action="example.granted").count() == 1
