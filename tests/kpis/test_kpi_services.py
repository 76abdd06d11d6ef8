"""Metrics and KPIs (Section 2.5) through their services: who proposes and who approves, for which
systems and uses, the yearly figures, the impact statement based on them, and the freeze."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from access_requests.services import department_access_revoke
from accounts.models import DESIGNEE_GROUP
from accounts.services import role_group
from kpis import services
from kpis.models import ImpactStatement, Kpi, KpiFigure
from kpis.selectors import KpiResult, kpi_results, kpis_due, kpis_visible_to, report_gaps
from portal.errors import NotAllowed, RuleViolation
from portal.models import AuditEvent, IntendedUse, OutgoingEmail

Status = Kpi.Status
THIS_YEAR = timezone.localdate().year
LAST_YEAR = THIS_YEAR - 1


def _use(code="public-safety"):
    return IntendedUse.objects.get(code=code)


def propose(city, *, by=None, department=None, system=None, use=None, name="Stolen vehicles recovered",
            direction="higher", target="40"):
    return services.kpi_propose(
        department=department or city.police, system=system or city.vms, intended_use=use or _use(), name=name,
        measure="Vehicles reported stolen and found through the cameras, from the case files.", unit="vehicles",
        direction=direction, target=target, by=by or city.head,
    )


def approved(city, *, approved_on=None, **kwargs):
    kpi = services.kpi_decide(kpi=propose(city, **kwargs), approve=True, reason="A clear measure.",
                              by=city.designee)
    if approved_on is not None:  # as if approved then
        Kpi.objects.filter(pk=kpi.pk).update(
            decided_at=timezone.make_aware(datetime(approved_on.year, approved_on.month, approved_on.day)))
        kpi.refresh_from_db()
    return kpi


def _subjects(start):
    return [sorted(m.to) for m in OutgoingEmail.objects.order_by("pk") if m.subject.startswith(start)]


# --- Proposing (S2.5a) --------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["head", "requester"])
def test_the_head_or_a_requester_proposes_and_the_designee_is_told(city, who):
    """S2.5a: a KPI of an authorized department, for a system and use it is authorized for."""
    kpi = propose(city, by=getattr(city, who))

    assert kpi.status == Status.PROPOSED and kpi.requested_by == getattr(city, who)
    assert kpi.target == Decimal("40.00")
    assert _subjects("KPI proposed") == [[city.designee.email]]
    assert AuditEvent.objects.filter(action="kpi.propose", outcome="success").count() == 1
    assert kpi.history.count() == 1


@pytest.mark.parametrize("who", ["officer", "outsider", "itsa", "designee"])
def test_nobody_else_proposes(city, who):
    """S2.5a: an end user, another department's head, ITSA and the designee do not propose a department's KPIs."""
    with pytest.raises(NotAllowed):
        propose(city, by=getattr(city, who))
    assert not Kpi.objects.exists()
    assert AuditEvent.objects.filter(action="kpi.propose", outcome="denied").count() == 1


def test_a_kpi_for_a_system_the_department_is_not_authorized_for_is_refused(city):
    """S2.5a, the way around: the police hold no department access to the plate readers."""
    with pytest.raises(RuleViolation, match="not authorized to use Plate Readers"):
        propose(city, system=city.lpr)
    assert not Kpi.objects.exists()
    assert AuditEvent.objects.filter(action="kpi.propose", outcome="denied").count() == 1


def test_a_kpi_for_a_use_the_access_does_not_name_is_refused(city):
    """S2.5a, the way around: the police's VMS access names public safety, not traffic management."""
    with pytest.raises(RuleViolation, match="for Traffic"):
        propose(city, use=_use("traffic-management"))


def test_a_kpi_on_revoked_access_is_refused(city):
    """S2.5a, the way around: access the designee revoked no longer authorizes a KPI."""
    department_access_revoke(access=city.police_vms, reason="No longer needed.", by=city.designee)
    with pytest.raises(RuleViolation, match="not authorized"):
        propose(city)


@pytest.mark.parametrize("field,value", [("target", "many"), ("target", "NaN"), ("target", "1e20"),
                                         ("target", "1.234"), ("direction", "sideways"), ("name", "  ")])
def test_bad_input_is_a_clear_refusal(city, field, value):
    kwargs = {field: value}
    with pytest.raises(RuleViolation) as refused:
        propose(city, **kwargs)
    assert refused.value.field == field


def test_the_same_kpi_twice_is_refused(city):
    propose(city)
    with pytest.raises(RuleViolation, match="already has the KPI"):
        propose(city, by=city.requester, name="stolen vehicles RECOVERED")


# --- Deciding (S2.5a) ---------------------------------------------------------------------------

def test_the_designee_approves_and_the_proposer_is_told(city):
    """S2.5a: KPIs approved by the Mayor's designee."""
    kpi = propose(city, by=city.requester)
    kpi = services.kpi_decide(kpi=kpi, approve=True, reason="Measures the use.", by=city.designee)

    assert kpi.status == Status.APPROVED and kpi.decided_by == city.designee and kpi.decided_at
    assert _subjects("KPI approved") == [[city.requester.email]]
    assert AuditEvent.objects.filter(action="kpi.approved").count() == 1
    # A double submit has one effect.
    assert services.kpi_decide(kpi=kpi, approve=True, reason="Again.", by=city.designee).decision_reason == \
        "Measures the use."


def test_the_designee_refuses_with_a_reason(city):
    """S2.5a: a refusal needs its reason."""
    kpi = propose(city)
    with pytest.raises(RuleViolation, match="reason"):
        services.kpi_decide(kpi=kpi, approve=False, reason=" ", by=city.designee)
    kpi = services.kpi_decide(kpi=kpi, approve=False, reason="Not measurable.", by=city.designee)
    assert kpi.status == Status.REFUSED
    with pytest.raises(RuleViolation, match="already decided"):
        services.kpi_decide(kpi=kpi, approve=True, reason="Changed my mind.", by=city.designee)


@pytest.mark.parametrize("who", ["head", "requester", "itsa", "outsider"])
def test_only_the_designee_decides(city, who):
    """S2.5a: approved by the Mayor or her/his designee, nobody else."""
    kpi = propose(city)
    with pytest.raises(NotAllowed):
        services.kpi_decide(kpi=kpi, approve=True, reason="Fine.", by=getattr(city, who))
    assert Kpi.objects.get().status == Status.PROPOSED
    assert AuditEvent.objects.filter(action="kpi.decide", outcome="denied").count() == 1


def test_the_designee_does_not_approve_their_own_proposal(city):
    """S2.5a, the way around: a designee who is also the department's requester proposes; another designee decides."""
    from accounts.services import authorized_requester_add

    city.designee.department = city.police  # a police officer serving as a designee
    city.designee.save()
    authorized_requester_add(department=city.police, person=city.designee, by=city.itsa)
    kpi = propose(city, by=city.designee)
    with pytest.raises(NotAllowed, match="another of the Mayor's designees"):
        services.kpi_decide(kpi=kpi, approve=True, reason="Mine.", by=city.designee)
    assert Kpi.objects.get().status == Status.PROPOSED

    other = type(city.designee).objects.create_user(email="designee2@city.example", password="x", full_name="Dee Two")
    other.groups.add(role_group(DESIGNEE_GROUP))
    assert services.kpi_decide(kpi=kpi, approve=True, reason="Fine.", by=other).status == Status.APPROVED


# --- Withdrawing and retiring -------------------------------------------------------------------

def test_the_proposer_or_the_head_withdraws_while_proposed(city):
    kpi = propose(city, by=city.requester)
    with pytest.raises(NotAllowed):
        services.kpi_withdraw(kpi=kpi, by=city.officer)
    assert services.kpi_withdraw(kpi=kpi, by=city.head).status == Status.WITHDRAWN
    decided = approved(city, name="Another")
    with pytest.raises(RuleViolation, match="awaiting a decision"):
        services.kpi_withdraw(kpi=decided, by=city.head)


@pytest.mark.parametrize("who", ["head", "designee"])
def test_the_head_or_the_designee_retires_an_approved_kpi(city, who):
    kpi = approved(city)
    kpi = services.kpi_retire(kpi=kpi, by=getattr(city, who), reason="Replaced by a better measure.")
    assert kpi.status == Status.RETIRED and kpi.retired_at == timezone.localdate()
    assert AuditEvent.objects.filter(action="kpi.retire", detail="Replaced by a better measure.").count() == 1


def test_the_requester_does_not_retire_and_a_proposed_kpi_is_not_retired(city):
    kpi = approved(city)
    with pytest.raises(NotAllowed):
        services.kpi_retire(kpi=kpi, by=city.requester, reason="Why not.")
    with pytest.raises(RuleViolation, match="Only an approved KPI"):
        services.kpi_retire(kpi=propose(city, name="New"), by=city.head, reason="Why not.")


# --- Figures (S2.5d) ----------------------------------------------------------------------------

def test_the_requester_records_a_figure_and_recording_again_replaces_it(city):
    """S2.5d: authorized organizations collect the data specified; history keeps the old value."""
    kpi = approved(city, approved_on=date(LAST_YEAR, 3, 1))
    services.figure_record(kpi=kpi, year=LAST_YEAR, value="38", note="From the case files.", by=city.requester)
    figure = services.figure_record(kpi=kpi, year=LAST_YEAR, value="41.5", note="", by=city.head)

    assert KpiFigure.objects.get() == figure and figure.value == Decimal("41.50")
    assert [h.value for h in figure.history.order_by("history_date")] == [Decimal("38.00"), Decimal("41.50")]
    assert AuditEvent.objects.filter(action="kpi.figure").count() == 2


@pytest.mark.parametrize("who", ["officer", "outsider", "itsa", "designee"])
def test_only_the_department_records_figures(city, who):
    """S2.5d: the department collects its data."""
    kpi = approved(city)
    with pytest.raises(NotAllowed):
        services.figure_record(kpi=kpi, year=THIS_YEAR, value="3", by=getattr(city, who))
    assert not KpiFigure.objects.exists()


@pytest.mark.parametrize("decision", ["refused", "proposed", "withdrawn"])
def test_a_figure_for_a_kpi_not_approved_is_refused(city, decision):
    """S2.5d, the way around: only approved KPIs take figures, not a refused or pending one."""
    kpi = propose(city)
    if decision == "refused":
        kpi = services.kpi_decide(kpi=kpi, approve=False, reason="Not measurable.", by=city.designee)
    elif decision == "withdrawn":
        kpi = services.kpi_withdraw(kpi=kpi, by=city.head)
    with pytest.raises(RuleViolation, match="only for approved KPIs"):
        services.figure_record(kpi=kpi, year=THIS_YEAR, value="3", by=city.head)
    assert not KpiFigure.objects.exists()
    assert AuditEvent.objects.filter(action="kpi.figure", outcome="refused").count() == 1


def test_no_figure_for_a_year_to_come_or_before_the_approval(city):
    """S2.5d: figures of years that happened, from the KPI's approval on."""
    kpi = approved(city, approved_on=date(LAST_YEAR, 6, 1))
    with pytest.raises(RuleViolation, match="years to come"):
        services.figure_record(kpi=kpi, year=THIS_YEAR + 1, value="3", by=city.head)
    with pytest.raises(RuleViolation, match=f"approved in {LAST_YEAR}"):
        services.figure_record(kpi=kpi, year=LAST_YEAR - 1, value="3", by=city.head)
    with pytest.raises(RuleViolation, match="as a number"):
        services.figure_record(kpi=kpi, year=LAST_YEAR, value="lots", by=city.head)


def test_a_retired_kpi_asks_no_figure_after_its_year(city):
    """S2.5d: a retired KPI takes the figures of the years it was in force, and no later one."""
    kpi = approved(city, approved_on=date(LAST_YEAR - 1, 6, 1))
    kpi = services.kpi_retire(kpi=kpi, by=city.head, reason="Replaced.", today=date(LAST_YEAR, 5, 1))
    services.figure_record(kpi=kpi, year=LAST_YEAR, value="3", by=city.head)
    with pytest.raises(RuleViolation, match="retired"):
        services.figure_record(kpi=kpi, year=THIS_YEAR, value="3", by=city.head)


def test_a_frozen_figure_does_not_change(city):
    """S2.5d, the way around: once the annual report is submitted, its figures no longer change."""
    kpi = approved(city, approved_on=date(LAST_YEAR, 1, 10))
    services.figure_record(kpi=kpi, year=LAST_YEAR, value="38", by=city.head)
    assert services.figures_freeze(department=city.police, year=LAST_YEAR, by=city.head) == 1

    with pytest.raises(RuleViolation, match=f"The annual report for {LAST_YEAR} was submitted; its figures no "
                                            "longer change."):
        services.figure_record(kpi=kpi, year=LAST_YEAR, value="45", by=city.head)
    assert KpiFigure.objects.get().value == Decimal("38.00")
    # Another year still takes figures.
    services.figure_record(kpi=kpi, year=THIS_YEAR, value="10", by=city.head)


# --- The impact statement (S2.5d) ---------------------------------------------------------------

def _state(city, *, by=None, year=LAST_YEAR, verdict="positive", explanation="41 vehicles against a target of 40."):
    return services.impact_state(department=city.police, system=city.vms, intended_use=_use(), year=year,
                                 verdict=verdict, explanation=explanation, by=by or city.head)


def test_a_verdict_without_the_figures_is_refused_naming_the_kpis_missing(city):
    """S2.5d, the way around: the statement is based on the data, so every KPI due needs its figure first."""
    first = approved(city, approved_on=date(LAST_YEAR, 2, 1))
    approved(city, approved_on=date(LAST_YEAR, 2, 1), name="Response time", direction="lower", target="8")
    services.figure_record(kpi=first, year=LAST_YEAR, value="41", by=city.head)

    with pytest.raises(RuleViolation, match="“Response time” first"):
        _state(city)
    assert not ImpactStatement.objects.exists()
    assert AuditEvent.objects.filter(action="kpi.impact", outcome="refused").count() == 1


def test_no_statement_without_any_kpi_due(city):
    """S2.5d: a statement rests on approved KPIs' figures."""
    propose(city)
    with pytest.raises(RuleViolation, match="No approved KPI"):
        _state(city)


def test_the_head_states_the_impact_and_may_state_it_again_until_frozen(city):
    """S2.5d: the head states, based on the figures, whether the use has a positive impact."""
    kpi = approved(city, approved_on=date(LAST_YEAR, 2, 1))
    services.figure_record(kpi=kpi, year=LAST_YEAR, value="41", by=city.requester)
    for who in ("requester", "designee", "outsider"):
        with pytest.raises(NotAllowed):
            _state(city, by=getattr(city, who))
    with pytest.raises(RuleViolation) as refused:
        _state(city, verdict="great")
    assert refused.value.field == "verdict"
    with pytest.raises(RuleViolation):
        _state(city, explanation="")

    statement = _state(city)
    statement = _state(city, verdict="too_early", explanation="One year of data only.")
    assert ImpactStatement.objects.get() == statement and statement.verdict == "too_early"
    assert statement.history.count() == 2

    assert services.figures_freeze(department=city.police, year=LAST_YEAR, by=city.head) == 2
    with pytest.raises(RuleViolation, match="no longer change"):
        _state(city, verdict="positive")
    assert ImpactStatement.objects.get().verdict == "too_early"


# --- The freeze ---------------------------------------------------------------------------------

def test_the_freeze_takes_the_department_and_year_only_and_once(city):
    """S2.5d: submitting the annual report freezes that year's figures of that department."""
    kpi = approved(city, approved_on=date(LAST_YEAR, 2, 1))
    services.figure_record(kpi=kpi, year=LAST_YEAR, value="41", by=city.head)
    services.figure_record(kpi=kpi, year=THIS_YEAR, value="5", by=city.head)
    with pytest.raises(NotAllowed):
        services.figures_freeze(department=city.police, year=LAST_YEAR, by=city.requester)
    assert services.figures_freeze(department=city.streets, year=LAST_YEAR, by=city.outsider) == 0

    assert services.figures_freeze(department=city.police, year=LAST_YEAR, by=city.head) == 1
    assert services.figures_freeze(department=city.police, year=LAST_YEAR, by=city.head) == 0
    frozen = dict(KpiFigure.objects.values_list("year", "frozen_at"))
    assert frozen[LAST_YEAR] is not None and frozen[THIS_YEAR] is None
    assert AuditEvent.objects.filter(action="kpi.freeze", outcome="success").count() == 1


# --- The selectors ------------------------------------------------------------------------------

def test_kpis_due_count_approval_and_retirement_dates(city):
    """S2.5d: a KPI is due from its approval's year until the year it is retired."""
    old = approved(city, approved_on=date(LAST_YEAR - 1, 5, 1), name="Old")
    services.kpi_retire(kpi=old, by=city.head, reason="Replaced.", today=date(LAST_YEAR, 4, 1))
    new = approved(city, approved_on=date(THIS_YEAR, 1, 2), name="New")
    propose(city, name="Pending")

    assert set(kpis_due(department=city.police, year=LAST_YEAR - 1)) == {Kpi.objects.get(pk=old.pk)}
    assert set(kpis_due(department=city.police, year=LAST_YEAR)) == {Kpi.objects.get(pk=old.pk)}
    assert set(kpis_due(department=city.police, year=THIS_YEAR)) == {new}
    assert not kpis_due(department=city.streets, year=THIS_YEAR).exists()


def test_kpi_results_and_report_gaps(city, django_assert_max_num_queries):
    """S2.5d: the year's figures against their targets, with the impact stated, and what is missing."""
    higher = approved(city, approved_on=date(LAST_YEAR, 2, 1), name="Recovered", direction="higher", target="40")
    lower = approved(city, approved_on=date(LAST_YEAR, 2, 1), name="Minutes", direction="lower", target="8")
    assert report_gaps(department=city.police, year=LAST_YEAR) == [
        f"No figure for {LAST_YEAR} of the KPI “Minutes” (Citywide VMS, {_use()}).",
        f"No figure for {LAST_YEAR} of the KPI “Recovered” (Citywide VMS, {_use()}).",
        f"No statement for {LAST_YEAR} of whether the use of Citywide VMS for {_use()} is having a positive impact.",
    ]
    services.figure_record(kpi=higher, year=LAST_YEAR, value="41", by=city.head)
    with django_assert_max_num_queries(3):
        results = kpi_results(year=LAST_YEAR)
    assert results == [
        KpiResult(department="Police Department", system="Citywide VMS", intended_use=_use().name, kpi="Minutes",
                  unit="vehicles", direction="lower", target=Decimal("8.00"), value=None, met=None, impact=None),
        KpiResult(department="Police Department", system="Citywide VMS", intended_use=_use().name, kpi="Recovered",
                  unit="vehicles", direction="higher", target=Decimal("40.00"), value=Decimal("41.00"), met=True,
                  impact=None),
    ]
    services.figure_record(kpi=lower, year=LAST_YEAR, value="9", by=city.head)
    _state(city, verdict="none")
    results = kpi_results(year=LAST_YEAR, department=city.police)
    assert [(r.kpi, r.met, r.impact) for r in results] == [("Minutes", False, "No clear impact"),
                                                           ("Recovered", True, "No clear impact")]
    assert report_gaps(department=city.police, year=LAST_YEAR) == []
    assert kpi_results(year=LAST_YEAR, department=city.streets) == []


def test_kpis_visible_to_each_role(city):
    """S2.5a: the department sees its own KPIs; the designee and ITSA every one; nobody else any."""
    kpi = propose(city)
    for who in ("head", "requester", "designee", "itsa"):
        assert list(kpis_visible_to(getattr(city, who))) == [kpi], who
    for who in ("officer", "outsider"):
        assert not kpis_visible_to(getattr(city, who)).exists(), who
    from django.contrib.auth.models import AnonymousUser
    assert not kpis_visible_to(AnonymousUser()).exists()


def test_history_is_kept(city):
    kpi = approved(city, approved_on=date(LAST_YEAR, 2, 1))
    assert [h.status for h in kpi.history.order_by("history_date")][:2] == ["proposed", "approved"]
