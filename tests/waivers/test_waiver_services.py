"""Waivers (Section 5.1) through their services: who asks, who decides, for how long, on what
ground, and the Mayor's approval beyond 30 days."""

from datetime import timedelta

import pytest
from conftest import provisioned
from django.utils import timezone

from accounts.models import DESIGNEE_GROUP, Grant
from accounts.services import role_group
from waivers import selectors as waiver_selectors
from waivers import services as waiver_services
from waivers.models import Waiver
from portal.errors import NotAllowed, RuleViolation
from portal.models import AuditEvent, IntendedUse, OutgoingEmail

Status = Waiver.Status


def _ask(city, grant, *, by=None, days=3, starts_on=None, basis="safety", justification="A credible threat.",
         deviation="Live monitoring beyond the investigation's streets.", grants=None, department=None,
         permissible_use=None, intended_use=None, today=None):
    return waiver_services.waiver_request(
        department=department or city.police,
        intended_use=intended_use or IntendedUse.objects.get(code="public-safety"),
        permissible_use=permissible_use, deviation=deviation, basis=basis, justification=justification,
        grants=[grant] if grants is None else grants, starts_on=starts_on or timezone.localdate(), days=days,
        by=by or city.head, today=today,
    )


def _mail_to(subject_start):
    return [sorted(m.to) for m in OutgoingEmail.objects.order_by("pk") if m.subject.startswith(subject_start)]


# --- Asking -------------------------------------------------------------------------------------

def test_the_head_asks_for_their_department_and_both_directors_are_told(city, directors, grant):
    """S5.1a: the request names the Table 1 row, the ground and the grants it touches."""
    waiver = _ask(city, grant, days=3, permissible_use=city.crime_detection)

    assert waiver.status == Status.REQUESTED and waiver.requested_by == city.head
    assert waiver.ends_on == waiver.starts_on + timedelta(days=3) and waiver.days == 3
    assert list(waiver.grants.all()) == [grant]
    assert waiver.decided_by is None and not waiver.substantive_change
    assert _mail_to("Waiver requested") == [sorted([directors.safety.email, directors.operations.email])]
    assert AuditEvent.objects.filter(action="waiver.request", actor=city.head).count() == 1
    assert waiver.history.filter(history_change_reason="Asked for by Hana Head").exists()


@pytest.mark.parametrize("who", ["requester", "officer", "itsa", "designee", "outsider"])
def test_nobody_but_the_head_or_a_director_asks(city, directors, grant, who):
    """S5.1a: an authorized requester, an end user, ITSA, the designee or another department's head may not."""
    with pytest.raises(NotAllowed):
        _ask(city, grant, by=getattr(city, who))
    assert not Waiver.objects.exists()
    assert AuditEvent.objects.filter(action="waiver.request", outcome="denied").count() == 1


@pytest.mark.parametrize("director", ["safety", "operations"])
def test_either_director_may_ask(city, directors, grant, director):
    waiver = _ask(city, grant, by=getattr(directors, director))
    assert waiver.requested_by == getattr(directors, director)
    # The other director is told; the one who asked is not.
    other = directors.operations if director == "safety" else directors.safety
    assert _mail_to("Waiver requested") == [[other.email]]


@pytest.mark.parametrize("basis", ["", "convenience", None])
def test_the_ground_must_be_life_safety_or_asset_protection(city, directors, grant, basis):
    """S5.1a: the justification must rest on life, safety or asset protection."""
    with pytest.raises(RuleViolation) as refusal:
        _ask(city, grant, basis=basis)
    assert refusal.value.field == "basis"
    assert not Waiver.objects.exists()


@pytest.mark.parametrize("basis", ["life", "safety", "asset_protection"])
def test_each_of_the_three_grounds_is_accepted(city, directors, grant, basis):
    assert _ask(city, grant, basis=basis).basis == basis


@pytest.mark.parametrize(("field", "value"), [("justification", ""), ("justification", " \x00 "),
                                              ("deviation", ""), ("justification", "x" * 5001)])
def test_the_justification_and_the_deviation_are_required_text(city, directors, grant, field, value):
    with pytest.raises(RuleViolation) as refusal:
        _ask(city, grant, **{field: value})
    assert refusal.value.field == field


def test_a_waiver_does_not_start_in_the_past(city, directors, grant):
    today = timezone.localdate()
    with pytest.raises(RuleViolation) as refusal:
        _ask(city, grant, starts_on=today - timedelta(days=1))
    assert refusal.value.field == "starts_on"
    assert _ask(city, grant, starts_on=today).starts_on == today


@pytest.mark.parametrize(("days", "accepted"), [(0, False), (1, True), (365, True), (366, False), (-3, False)])
def test_a_waiver_lasts_from_one_day_to_a_year(city, directors, grant, days, accepted):
    """A waiver is temporary: at most 365 days, and more than 30 only with the Mayor (S5.1b)."""
    if accepted:
        assert _ask(city, grant, days=days).days == days
    else:
        with pytest.raises(RuleViolation) as refusal:
            _ask(city, grant, days=days)
        assert refusal.value.field == "days"


def test_the_permissible_use_belongs_to_the_intended_use(city, directors, grant):
    with pytest.raises(RuleViolation) as refusal:
        _ask(city, grant, permissible_use=city.traffic_monitoring)
    assert refusal.value.field == "permissible_use"


def test_a_staff_role_grant_is_refused_because_separation_of_duties_is_never_waivable(city, directors, grant):
    """S3.2a S3.2b: a waiver never touches an administrator, monitor or auditor grant."""
    admin = provisioned(city, person=city.analyst, role="administrator", by=city.head).grant
    with pytest.raises(RuleViolation) as refusal:
        _ask(city, grant, grants=[grant, admin])
    assert "separation of duties (Section 3.2) is never waivable" in refusal.value.message
    assert refusal.value.field == "grants"
    assert not Waiver.objects.exists()


def test_the_grants_are_live_end_user_grants_of_the_department(city, directors, grant):
    with pytest.raises(RuleViolation):
        _ask(city, grant, grants=[])
    streets_grant = Grant.objects.create(
        person=city.streets_worker, system=city.traffic, department=city.streets, role="end_user",
        account_name="wworker", provisioned_at=timezone.now(), provisioned_by=city.itsa)
    with pytest.raises(RuleViolation) as refusal:
        _ask(city, grant, grants=[streets_grant])
    assert "not a grant of Police Department" in refusal.value.message
    grant.status = Grant.Status.REMOVED
    grant.save()
    with pytest.raises(RuleViolation) as refusal:
        _ask(city, grant)
    assert "live grants only" in refusal.value.message


def test_the_same_request_twice_is_refused_the_second_time(city, directors, grant):
    first = _ask(city, grant)
    with pytest.raises(RuleViolation) as refusal:
        _ask(city, grant)
    assert f"waiver {first.pk}" in refusal.value.message
    assert Waiver.objects.count() == 1


# --- Deciding -----------------------------------------------------------------------------------

def test_thirty_days_are_granted_by_a_director_alone(city, directors, grant):
    """S5.1a: up to 30 days (30 included), the director's grant takes effect at once, with the decider named."""
    waiver = waiver_services.waiver_decide(waiver=_ask(city, grant, days=30), grant=True, reason="Stadium event.",
                                   by=directors.safety)
    assert waiver.status == Status.GRANTED and not waiver.substantive_change
    assert waiver.decided_by == directors.safety and waiver.decision_reason == "Stadium event."
    assert waiver.decided_at is not None and waiver.is_in_force()
    assert _mail_to("Waiver granted") == [sorted([city.head.email])]
    assert not _mail_to("Waiver awaiting the Mayor")


def test_thirty_one_days_wait_for_the_mayor_and_are_a_substantive_change(city, directors, grant):
    """S5.1b: over 30 days the director's approval is not enough: the Mayor's designee is asked, and
    the waiver is flagged as a substantive change to the policy."""
    waiver = waiver_services.waiver_decide(waiver=_ask(city, grant, days=31), grant=True, reason="Long works.",
                                   by=directors.operations)
    assert waiver.status == Status.AWAITING_MAYOR and waiver.substantive_change
    assert waiver.decided_by == directors.operations
    assert not waiver.is_in_force()
    assert _mail_to("Waiver awaiting the Mayor") == [[city.designee.email]]


@pytest.mark.parametrize("director", ["safety", "operations"])
def test_both_directors_may_decide(city, directors, grant, director):
    """S5.1a: the Director of Public Safety or the City Operations Director."""
    decider = getattr(directors, director)
    waiver = waiver_services.waiver_decide(waiver=_ask(city, grant), grant=True, reason="Needed.", by=decider)
    assert (waiver.status, waiver.decided_by) == (Status.GRANTED, decider)


@pytest.mark.parametrize("who", ["head", "requester", "itsa", "designee", "outsider"])
def test_heads_itsa_and_the_designee_may_not_decide(city, directors, grant, who):
    """S5.1a: only the two directors decide."""
    waiver = _ask(city, grant, by=directors.safety)
    with pytest.raises(NotAllowed):
        waiver_services.waiver_decide(waiver=waiver, grant=True, reason="Fine.", by=getattr(city, who))
    waiver.refresh_from_db()
    assert waiver.status == Status.REQUESTED and waiver.decided_by is None
    assert AuditEvent.objects.filter(action="waiver.decide", outcome="denied").count() == 1


def test_the_director_who_asked_does_not_decide_and_the_other_one_does(city, directors, grant):
    """S5.1a: every decision names its decider, never the person who asked."""
    waiver = _ask(city, grant, by=directors.safety)
    with pytest.raises(NotAllowed) as refusal:
        waiver_services.waiver_decide(waiver=waiver, grant=True, reason="Mine.", by=directors.safety)
    assert "other director" in refusal.value.message
    waiver.refresh_from_db()
    assert waiver.status == Status.REQUESTED
    waiver = waiver_services.waiver_decide(waiver=waiver, grant=True, reason="Agreed.", by=directors.operations)
    assert waiver.decided_by == directors.operations != waiver.requested_by


def test_a_denial_names_its_reason_and_the_reason_is_required(city, directors, grant):
    waiver = _ask(city, grant)
    with pytest.raises(RuleViolation) as refusal:
        waiver_services.waiver_decide(waiver=waiver, grant=False, reason="  ", by=directors.safety)
    assert refusal.value.field == "reason"
    waiver = waiver_services.waiver_decide(waiver=waiver, grant=False, reason="No threat shown.", by=directors.safety)
    assert (waiver.status, waiver.decided_by, waiver.decision_reason) == (
        Status.DENIED, directors.safety, "No threat shown.")
    assert not waiver.is_in_force()


def test_a_repeated_decision_changes_nothing_and_a_second_director_is_told_it_is_decided(city, directors, grant):
    waiver = waiver_services.waiver_decide(waiver=_ask(city, grant), grant=True, reason="Yes.", by=directors.safety)
    again = waiver_services.waiver_decide(waiver=waiver, grant=True, reason="Yes again.", by=directors.safety)
    assert again.decision_reason == "Yes." and waiver.history.count() == again.history.count()
    with pytest.raises(RuleViolation) as refusal:
        waiver_services.waiver_decide(waiver=waiver, grant=False, reason="No.", by=directors.operations)
    assert "already decided" in refusal.value.message


def test_a_waiver_whose_end_date_has_passed_cannot_be_granted(city, directors, grant):
    today = timezone.localdate()
    waiver = _ask(city, grant, days=2, starts_on=today, today=today)
    with pytest.raises(RuleViolation):
        waiver_services.waiver_decide(waiver=waiver, grant=True, reason="Late.", by=directors.safety,
                              today=today + timedelta(days=2))


# --- The Mayor's approval (S5.1b) ---------------------------------------------------------------

def _awaiting_mayor(city, directors, grant, **kwargs):
    return waiver_services.waiver_decide(waiver=_ask(city, grant, days=45, **kwargs), grant=True, reason="Long works.",
                                 by=directors.safety)


def test_the_designee_records_the_mayors_approval_and_the_waiver_is_granted(city, directors, grant):
    """S5.1b: the Mayor approves; the designee records it with its date; a substantive change."""
    today = timezone.localdate()
    waiver = waiver_services.waiver_record_mayor_approval(waiver=_awaiting_mayor(city, directors, grant), approved_on=today,
                                                  by=city.designee)
    assert waiver.status == Status.GRANTED and waiver.substantive_change
    assert (waiver.mayor_recorded_by, waiver.mayor_approved_on) == (city.designee, today)
    assert waiver.decided_by == directors.safety
    assert waiver.is_in_force()
    assert AuditEvent.objects.filter(action="waiver.mayor_approved", actor=city.designee).count() == 1


def test_the_mayors_approval_cannot_be_dated_in_the_future(city, directors, grant):
    waiver = _awaiting_mayor(city, directors, grant)
    with pytest.raises(RuleViolation) as refusal:
        waiver_services.waiver_record_mayor_approval(waiver=waiver, approved_on=timezone.localdate() + timedelta(days=1),
                                             by=city.designee)
    assert refusal.value.field == "decided_on"
    waiver.refresh_from_db()
    assert waiver.status == Status.AWAITING_MAYOR


@pytest.mark.parametrize("who", ["head", "itsa"])
def test_only_the_designee_records_the_mayors_decision(city, directors, grant, who):
    waiver = _awaiting_mayor(city, directors, grant)
    for person in (getattr(city, who), directors.safety, directors.operations):
        with pytest.raises(NotAllowed):
            waiver_services.waiver_record_mayor_approval(waiver=waiver, approved_on=timezone.localdate(), by=person)
    waiver.refresh_from_db()
    assert waiver.status == Status.AWAITING_MAYOR and waiver.mayor_recorded_by is None


def test_the_designee_who_asked_does_not_record_the_mayors_decision(city, directors, grant):
    """S5.1b: the decider is never the person who asked, for the Mayor's designee as for the directors."""
    city.head.groups.add(role_group(DESIGNEE_GROUP))  # the head is also one of the Mayor's designees
    waiver = _awaiting_mayor(city, directors, grant)
    assert waiver.requested_by == city.head
    with pytest.raises(NotAllowed) as refusal:
        waiver_services.waiver_record_mayor_approval(waiver=waiver, approved_on=timezone.localdate(), by=city.head)
    assert "another of the Mayor's designees" in refusal.value.message
    waiver = waiver_services.waiver_record_mayor_approval(waiver=waiver, approved_on=timezone.localdate(), by=city.designee)
    assert waiver.status == Status.GRANTED


def test_the_designee_records_the_mayors_refusal_with_a_note(city, directors, grant):
    waiver = _awaiting_mayor(city, directors, grant)
    with pytest.raises(RuleViolation) as refusal:
        waiver_services.waiver_record_mayor_decision(waiver=waiver, approved=False, decided_on=timezone.localdate(),
                                             note="", by=city.designee)
    assert refusal.value.field == "note"
    waiver = waiver_services.waiver_record_mayor_decision(waiver=waiver, approved=False, decided_on=timezone.localdate(),
                                                  note="Too long: come back in 30 days.", by=city.designee)
    assert waiver.status == Status.DENIED and waiver.mayor_recorded_by == city.designee
    assert waiver.mayor_approved_on is None and waiver.mayor_refused_on == timezone.localdate()
    # Each reason in its own field: the director's as written, the Mayor's as recorded.
    assert waiver.decision_reason == "Long works."
    assert waiver.mayor_note == "Too long: come back in 30 days."


def test_a_thirty_day_waiver_never_waits_for_the_mayor(city, directors, grant):
    waiver = waiver_services.waiver_decide(waiver=_ask(city, grant, days=30), grant=True, reason="Ok.", by=directors.safety)
    with pytest.raises(RuleViolation):
        waiver_services.waiver_record_mayor_approval(waiver=waiver, approved_on=timezone.localdate(), by=city.designee)


# --- Revoking -----------------------------------------------------------------------------------

def test_a_director_revokes_a_granted_waiver(city, directors, grant):
    waiver = waiver_services.waiver_decide(waiver=_ask(city, grant), grant=True, reason="Ok.", by=directors.safety)
    for person in (city.head, city.itsa, city.designee):
        with pytest.raises(NotAllowed):
            waiver_services.waiver_revoke(waiver=waiver, reason="Over.", by=person)
    with pytest.raises(RuleViolation):
        waiver_services.waiver_revoke(waiver=waiver, reason="", by=directors.operations)
    waiver = waiver_services.waiver_revoke(waiver=waiver, reason="The event was cancelled.", by=directors.operations)
    assert waiver.status == Status.REVOKED and waiver.ended_by == directors.operations
    assert waiver.ended_at is not None and not waiver.is_in_force()
    assert waiver.end_reason == "The event was cancelled." and waiver.decision_reason == "Ok."
    assert _mail_to("Waiver revoked") == [[city.head.email]]
    # Once more: nothing changes; and a waiver not granted cannot be revoked.
    assert waiver_services.waiver_revoke(waiver=waiver, reason="Again.", by=directors.operations).ended_at == waiver.ended_at
    other = _ask(city, grant, deviation="Something else.")
    with pytest.raises(RuleViolation):
        waiver_services.waiver_revoke(waiver=other, reason="Not granted.", by=directors.safety)


# --- Who sees them ------------------------------------------------------------------------------

def test_the_department_the_directors_the_designees_and_itsa_see_a_waiver_nobody_else(city, directors, grant):
    waiver = _ask(city, grant)
    for person in (city.head, city.requester, city.itsa, city.itsa2, city.designee, directors.safety,
                   directors.operations):
        assert list(waiver_selectors.waivers_visible_to(person)) == [waiver], person
    for person in (city.officer, city.analyst, city.outsider, city.streets_worker):
        assert not waiver_selectors.waivers_visible_to(person).exists(), person


def test_the_waivers_in_force_on_a_grant(city, directors, grant):
    today = timezone.localdate()
    granted = waiver_services.waiver_decide(waiver=_ask(city, grant), grant=True, reason="Ok.", by=directors.safety)
    later = waiver_services.waiver_decide(waiver=_ask(city, grant, starts_on=today + timedelta(days=5)), grant=True,
                                  reason="Ok.", by=directors.safety)
    _ask(city, grant, deviation="Not decided yet.")
    assert list(waiver_selectors.waivers_in_force_for_grant(grant)) == [granted]
    assert list(waiver_selectors.waivers_in_force_for_grant(grant, today=today + timedelta(days=5))) == [later]
    # The grant page shows the same waivers.
    assert [w.pk for w in waiver_selectors.waivers_in_force_first(Waiver.objects.all())][0] == granted.pk


def test_the_demo_waiver_is_granted_and_touches_the_officers_grant(city, directors, grant):
    waiver = waiver_services.seed_demo_waivers(grant=grant, asker=city.head, director=directors.safety)
    assert waiver.status == Status.GRANTED and waiver.days == 3 and waiver.basis == "safety"
    assert list(grant.waivers.all()) == [waiver]
