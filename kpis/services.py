"""Metrics and KPIs (Section 2.5): every rule and write.

An authorized department justifies its use of a system with KPIs, per system and intended use it is
authorized for, that the Mayor's designee approves (S2.5a). Each year the department records the
figure of every KPI due and its head states, based on those figures, whether the use is having a
positive impact; submitting the annual report freezes both (S2.5d).

Every function: lock the row, check who may act, return early when it is already in the target
state, check the rule, write the change (history records it) and the audit event, and send mail
only after commit. Refused attempts are recorded with `audit_refusal`.
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import DESIGNEE_GROUP, Department, SurveillanceSystem, User
from portal.audit import audit_record, audit_refusal, service_transaction
from portal.decisions import decision_open, decision_record
from portal.emails import email_send
from portal.errors import NotAllowed, RuleViolation
from portal.models import IntendedUse
from portal.text import clean_text

from .models import ImpactStatement, Kpi, KpiFigure
from .selectors import Status, due_q, is_authorized_for, kpis_due

# The figures and targets a KPI takes: what the columns hold.
MAX_NUMBER = Decimal("999999999999.99")
# No surveillance system of the city measured anything before this year.
FIRST_YEAR = 2000


def _emails(users) -> list[str]:
    return [user.email for user in users if user is not None and user.is_active]


def _designees() -> QuerySet[User]:
    return User.objects.filter(groups__name=DESIGNEE_GROUP, is_active=True)


def acts_for(user: User, department: Department) -> bool:
    """The department's head or a current authorized requester of it."""
    if not user.is_authenticated:
        return False
    return any(d.pk == department.pk for d in [*user.roles.headed_departments, *user.roles.requester_departments])


def heads(user: User, department: Department) -> bool:
    return user.is_authenticated and department.head_id == user.pk


def may_decide_kpi(*, kpi: Kpi, user: User) -> bool:
    """The Mayor's designee decides a proposed KPI, never one they proposed (S2.5a)."""
    return kpi.status == Status.PROPOSED and user.roles.is_designee and not kpi.is_asked_by(user)


def may_withdraw_kpi(*, kpi: Kpi, user: User) -> bool:
    return kpi.status == Status.PROPOSED and (kpi.is_asked_by(user) or heads(user, kpi.department))


def may_retire_kpi(*, kpi: Kpi, user: User) -> bool:
    return kpi.status == Status.APPROVED and (heads(user, kpi.department) or user.roles.is_designee)


def may_record_figure(*, kpi: Kpi, user: User) -> bool:
    return kpi.status in (Status.APPROVED, Status.RETIRED) and acts_for(user, kpi.department)


def _number(value, *, field: str, label: str) -> Decimal:
    """A finite number with at most two decimals that the columns hold."""
    try:
        number = Decimal(str(value)) if value is not None and str(value).strip() != "" else None
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite():
        raise RuleViolation(f"Enter the {label} as a number.", field=field)
    if abs(number) > MAX_NUMBER:
        raise RuleViolation(f"The {label} is too large.", field=field)
    if number != number.quantize(Decimal("0.01")):
        raise RuleViolation(f"Give the {label} with at most two decimals.", field=field)
    return number.quantize(Decimal("0.01"))


def _year(year, *, today: date) -> int:
    if not isinstance(year, int) or isinstance(year, bool) or not FIRST_YEAR <= year <= today.year:
        raise RuleViolation(f"Choose a year from {FIRST_YEAR} to {today.year}: figures are not recorded for "
                            "years to come.", field="year")
    return year


def _lock(kpi: Kpi) -> Kpi:
    return Kpi.objects.select_for_update(of=("self",)).select_related(
        "department", "system", "intended_use", "requested_by").get(pk=kpi.pk)


@service_transaction
def kpi_propose(*, department: Department, system: SurveillanceSystem, intended_use: IntendedUse, name: str,
                measure: str, unit: str, direction: str, target, by: User) -> Kpi:
    """Propose a KPI of the department's use of a system for one intended use it is authorized for:
    a granted, not revoked, department access to the system naming that use (S2.5a)."""
    if department is None or not acts_for(by, department):
        audit_refusal(actor=by, action="kpi.propose", target=department or "no department")
        raise NotAllowed("Only the department's head or one of its authorized requesters can propose its KPIs.")
    if system is None:
        raise RuleViolation("Choose the system the KPI measures.", field="system")
    if intended_use is None:
        raise RuleViolation("Choose the intended use the KPI measures.", field="intended_use")
    if not is_authorized_for(department=department, system=system, intended_use=intended_use):
        audit_refusal(actor=by, action="kpi.propose", target=department,
                      detail=f"not authorized: {system}, {intended_use}")
        raise RuleViolation(
            f"{department} is not authorized to use {system} for {intended_use}: KPIs measure the uses a "
            "department's granted access names (Section 2.5).", field="intended_use",
        )
    name = clean_text(name, field="name", label="name of the KPI", limit=120)
    measure = clean_text(measure, field="measure", label="data collected and how")
    unit = clean_text(unit, field="unit", label="unit", limit=40)
    if direction not in Kpi.Direction.values:
        raise RuleViolation("Choose whether a higher or a lower figure is better.", field="direction")
    target = _number(target, field="target", label="target")
    duplicate = Kpi.objects.filter(department=department, system=system, intended_use=intended_use,
                                   name__iexact=name, status__in=(Status.PROPOSED, Status.APPROVED)).first()
    if duplicate is not None:
        raise RuleViolation(f"{department} already has the KPI “{duplicate.name}” for {system} and {intended_use} "
                            f"({duplicate.get_status_display().lower()}).", field="name")

    kpi = Kpi(department=department, system=system, intended_use=intended_use, name=name, measure=measure,
              unit=unit, direction=direction, target=target, requested_by=by)
    kpi._change_reason = f"Proposed by {by}"[:100]
    kpi.save()
    audit_record(actor=by, action="kpi.propose", target=kpi, detail=f"target {target} {unit}")
    email_send("kpi-proposed", to=_emails(_designees().exclude(pk=by.pk)), context={"kpi": kpi})
    return kpi


@service_transaction
def kpi_decide(*, kpi: Kpi, approve: bool, reason: str, by: User) -> Kpi:
    """The Mayor's designee approves or refuses a proposed KPI, with a reason; nobody decides their
    own proposal (S2.5a)."""
    kpi = _lock(kpi)
    reason = decision_open(
        kpi, by=by, reason=reason, outcomes=(Status.APPROVED,) if approve else (Status.REFUSED,),
        pending=Status.PROPOSED, what="KPI", action="kpi.decide", may_decide=by.roles.is_designee,
        not_allowed="Only the Mayor's designee approves or refuses a KPI (Section 2.5).",
        asked="You proposed this KPI, so another of the Mayor's designees must decide it.",
    )
    if reason is None:
        return kpi
    status = Status.APPROVED if approve else Status.REFUSED
    decision_record(kpi, status=status, reason=reason, by=by, action=f"kpi.{status}",
                    change_reason=f"{'Approved' if approve else 'Refused'} by {by}"[:100])
    email_send("kpi-decided", to=_emails([kpi.requested_by]), context={"kpi": kpi})
    return kpi


@service_transaction
def kpi_withdraw(*, kpi: Kpi, by: User, reason: str = "") -> Kpi:
    """The proposer or the department's head withdraws a KPI still awaiting a decision."""
    kpi = _lock(kpi)
    if kpi.status == Status.WITHDRAWN:
        return kpi
    if not (kpi.is_asked_by(by) or heads(by, kpi.department)):
        audit_refusal(actor=by, action="kpi.withdraw", target=kpi)
        raise NotAllowed("Only the person who proposed the KPI, or the department's head, can withdraw it.")
    if kpi.status != Status.PROPOSED:
        raise RuleViolation(f"Only a KPI awaiting a decision can be withdrawn; this one is "
                            f"{kpi.get_status_display().lower()}.")
    reason = clean_text(reason, field="reason", label="reason", required=False)
    kpi.status = Status.WITHDRAWN
    kpi._change_reason = f"Withdrawn by {by}"[:100]
    kpi.save()
    audit_record(actor=by, action="kpi.withdraw", target=kpi, detail=reason)
    return kpi


@service_transaction
def kpi_retire(*, kpi: Kpi, by: User, reason: str, today: date | None = None) -> Kpi:
    """The department's head or the Mayor's designee retires an approved KPI: it asks no figure for
    the years after this one."""
    today = today or timezone.localdate()
    kpi = _lock(kpi)
    if kpi.status == Status.RETIRED:
        return kpi
    if not (heads(by, kpi.department) or by.roles.is_designee):
        audit_refusal(actor=by, action="kpi.retire", target=kpi)
        raise NotAllowed("Only the department's head or the Mayor's designee can retire a KPI.")
    if kpi.status != Status.APPROVED:
        raise RuleViolation(f"Only an approved KPI can be retired; this one is {kpi.get_status_display().lower()}.")
    reason = clean_text(reason, field="reason", label="reason for retiring the KPI")
    kpi.status = Status.RETIRED
    kpi.retired_at = today
    kpi._change_reason = f"Retired by {by}"[:100]
    kpi.save()
    audit_record(actor=by, action="kpi.retire", target=kpi, detail=reason)
    return kpi


FROZEN = "The annual report for {year} was submitted; its figures no longer change."


@service_transaction
def figure_record(*, kpi: Kpi, year: int, value, note: str = "", by: User, today: date | None = None) -> KpiFigure:
    """Record, or record again, the figure of an approved KPI for a year (S2.5d): not a year to
    come, nor one before the KPI's approval; a retired KPI only for the years it was still asked
    for. Once the year's annual report is submitted the figure is frozen."""
    today = today or timezone.localdate()
    kpi = _lock(kpi)
    if not acts_for(by, kpi.department):
        audit_refusal(actor=by, action="kpi.figure", target=kpi)
        raise NotAllowed("Only the department's head or one of its authorized requesters records its figures.")
    if kpi.status not in (Status.APPROVED, Status.RETIRED):
        audit_refusal(actor=by, action="kpi.figure", target=kpi, outcome="refused",
                      detail=f"KPI {kpi.get_status_display().lower()}")
        raise RuleViolation(f"This KPI is {kpi.get_status_display().lower()}: figures are recorded only for "
                            "approved KPIs (Section 2.5).")
    year = _year(year, today=today)
    approved_in = timezone.localtime(kpi.decided_at).year
    if year < approved_in:
        raise RuleViolation(f"This KPI was approved in {approved_in}: it asks figures from {approved_in} on.",
                            field="year")
    if not Kpi.objects.filter(due_q(year), pk=kpi.pk).exists():
        raise RuleViolation(f"This KPI was retired on {kpi.retired_at:%B %-d, %Y}: it asks no figure for {year}.",
                            field="year")
    value = _number(value, field="value", label="figure")
    note = clean_text(note, field="note", label="note", required=False)
    figure = KpiFigure.objects.filter(kpi=kpi, year=year).first()
    if figure is not None and figure.frozen_at is not None:
        audit_refusal(actor=by, action="kpi.figure", target=kpi, outcome="refused", detail=f"{year} frozen")
        raise RuleViolation(FROZEN.format(year=year))
    if figure is not None and figure.value == value and figure.note == note:
        return figure
    if figure is None:
        figure = KpiFigure(kpi=kpi, year=year)
        figure._change_reason = f"Recorded by {by}"[:100]
    else:
        figure._change_reason = f"Recorded again by {by}, was {figure.value}"[:100]
    figure.value, figure.note, figure.recorded_by, figure.recorded_at = value, note, by, timezone.now()
    figure.save()
    audit_record(actor=by, action="kpi.figure", target=kpi, detail=f"{year}: {value} {kpi.unit}")
    return figure


def missing_figures(*, department: Department, system: SurveillanceSystem, intended_use: IntendedUse,
                    year: int) -> tuple[list[Kpi], list[Kpi]]:
    """The KPIs of a system and use due for `year`, and those of them with no figure for it."""
    due = list(kpis_due(department=department, year=year).filter(system=system, intended_use=intended_use)
               .order_by("name", "pk"))
    recorded = set(KpiFigure.objects.filter(kpi__in=due, year=year).values_list("kpi_id", flat=True))
    return due, [kpi for kpi in due if kpi.pk not in recorded]


@service_transaction
def impact_state(*, department: Department, system: SurveillanceSystem, intended_use: IntendedUse, year: int,
                 verdict: str, explanation: str, by: User, today: date | None = None) -> ImpactStatement:
    """The head states, based on the year's figures, whether the use of the system for the intended
    use is having a positive impact (S2.5d): only once every KPI due has its figure. Stated again
    until the annual report freezes it."""
    today = today or timezone.localdate()
    if department is None or not heads(by, department):
        audit_refusal(actor=by, action="kpi.impact", target=department or "no department")
        raise NotAllowed("Only the department's head states whether the use is having a positive impact.")
    if system is None or intended_use is None:
        raise RuleViolation("Choose the system and the intended use.")
    year = _year(year, today=today)
    Department.objects.select_for_update().get(pk=department.pk)  # one statement at a time per department
    due, missing = missing_figures(department=department, system=system, intended_use=intended_use, year=year)
    if not due:
        raise RuleViolation(f"No approved KPI of {system} for {intended_use} asks a figure for {year}: the "
                            "statement rests on the KPIs' figures (Section 2.5).")
    if missing:
        names = ", ".join(f"“{kpi.name}”" for kpi in missing)
        audit_refusal(actor=by, action="kpi.impact", target=department, outcome="refused",
                      detail=f"{year}: no figure of {names}")
        raise RuleViolation(f"Record the {year} figure{'s' if len(missing) > 1 else ''} of {names} first: the "
                            "statement rests on the data (Section 2.5).")
    if verdict not in ImpactStatement.Verdict.values:
        raise RuleViolation("Choose whether the use is having a positive impact.", field="verdict")
    explanation = clean_text(explanation, field="explanation", label="explanation, based on the figures")
    statement = ImpactStatement.objects.filter(department=department, system=system, intended_use=intended_use,
                                               year=year).first()
    if statement is not None and statement.frozen_at is not None:
        audit_refusal(actor=by, action="kpi.impact", target=department, outcome="refused", detail=f"{year} frozen")
        raise RuleViolation(f"The annual report for {year} was submitted; its impact statements no longer change.")
    if statement is not None and statement.verdict == verdict and statement.explanation == explanation:
        return statement
    if statement is None:
        statement = ImpactStatement(department=department, system=system, intended_use=intended_use, year=year)
        statement._change_reason = f"Stated by {by}"[:100]
    else:
        statement._change_reason = f"Stated again by {by}, was {statement.get_verdict_display()}"[:100]
    statement.verdict, statement.explanation = verdict, explanation
    statement.written_by, statement.written_at = by, timezone.now()
    statement.save()
    audit_record(actor=by, action="kpi.impact", target=statement, detail=statement.get_verdict_display())
    return statement


@service_transaction
def figures_freeze(*, department: Department, year: int, by: User) -> int:
    """Freeze the department's figures and impact statements of `year`: called when its head submits
    the annual report, which they back (S2.5d). Returns how many were frozen; a second call
    freezes nothing more."""
    if department is None or not heads(by, department):
        audit_refusal(actor=by, action="kpi.freeze", target=department or "no department")
        raise NotAllowed("Only the department's head submits its annual report, which freezes its figures.")
    now = timezone.now()
    figures = KpiFigure.objects.select_for_update().filter(kpi__department=department, year=year,
                                                           frozen_at__isnull=True)
    statements = ImpactStatement.objects.select_for_update().filter(department=department, year=year,
                                                                    frozen_at__isnull=True)
    frozen = 0
    # One by one so that history records each freeze.
    for row in [*figures, *statements]:
        row.frozen_at = now
        row._change_reason = f"Frozen by the {year} annual report"
        row.save()
        frozen += 1
    if frozen:
        audit_record(actor=by, action="kpi.freeze", target=department, detail=f"{year}: {frozen} frozen")
    return frozen


def seed_demo_kpis(*, department: Department, system: SurveillanceSystem, head: User, designee: User,
                   today: date | None = None) -> Kpi:
    """One approved KPI for the demo, with last year's figure and the head's statement: the plate
    readers' stolen vehicles recovered. `head` heads `department`, whose access to `system` names
    public safety."""
    today = today or timezone.localdate()
    last_year = today.year - 1
    kpi = kpi_propose(
        department=department, system=system, intended_use=IntendedUse.objects.get(code="public-safety"),
        name="Stolen vehicles recovered",
        measure="Vehicles reported stolen and recovered after a plate reader hit, counted from the case files "
                "each month.", unit="vehicles", direction=Kpi.Direction.HIGHER, target="120", by=head,
    )
    kpi = kpi_decide(kpi=kpi, approve=True, reason="A direct measure of the readers' public safety use.",
                     by=designee)
    # The demo city approved it last year, so that last year's annual report has its figure.
    Kpi.objects.filter(pk=kpi.pk).update(decided_at=kpi.decided_at.replace(year=last_year, month=3, day=1))
    kpi.refresh_from_db()
    figure_record(kpi=kpi, year=last_year, value="134", note="From the monthly case-file counts.", by=head,
                  today=today)
    impact_state(department=department, system=system, intended_use=kpi.intended_use, year=last_year,
                 verdict=ImpactStatement.Verdict.POSITIVE,
                 explanation="134 stolen vehicles recovered against a target of 120; most within a day of the "
                             "report.", by=head, today=today)
    return kpi
