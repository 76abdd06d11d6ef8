"""The reads of metrics and KPIs (Section 2.5): who sees which, which are due in a year, and the
year's results against their targets. Rules live in kpis.services."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from access_requests.models import DepartmentAccess
from accounts.models import Department, User
from accounts.selectors import department_ids_for
from portal.models import IntendedUse

from .models import ImpactStatement, Kpi, KpiFigure


Status = Kpi.Status


@dataclass(frozen=True)
class KpiResult:
    department: str        # department name
    system: str            # system name
    intended_use: str      # IntendedUse.name
    kpi: str               # Kpi.name
    unit: str
    direction: str         # "higher" | "lower"
    target: Decimal
    value: Decimal | None  # the year's figure; None when not recorded
    met: bool | None       # value >= target (higher) / value <= target (lower); None without a figure
    impact: str | None     # the verdict's label of that department+system+use+year; None when not stated


def year_start(year: int) -> datetime:
    """00:00, city time, on January 1 of `year`."""
    return datetime(year, 1, 1, tzinfo=timezone.get_current_timezone())


def due_q(year: int) -> Q:
    """The KPIs that ask a figure for `year`: approved by the end of the year and not retired, or
    retired during the year or later after being approved by its end."""
    approved_by_its_end = Q(decided_at__lt=year_start(year + 1))
    return approved_by_its_end & (
        Q(status=Status.APPROVED) | Q(status=Status.RETIRED, retired_at__gt=date(year, 1, 1))
    )


def kpis_due(*, department, year) -> QuerySet[Kpi]:
    """The department's KPIs that ask a figure for `year` (S2.5d)."""
    return Kpi.objects.filter(due_q(year), department=department)


def _label(verdict: str) -> str:
    return ImpactStatement.Verdict(verdict).label


def kpi_results(*, year: int, department=None) -> list[KpiResult]:
    """The year's figure of every KPI due, against its target, with the impact stated for its system
    and use (S2.5d); of one department, or of every one when None. Three queries."""
    due = Kpi.objects.filter(due_q(year))
    statements = ImpactStatement.objects.filter(year=year)
    if department is not None:
        due = due.filter(department=department)
        statements = statements.filter(department=department)
    due = due.select_related("department", "system", "intended_use").prefetch_related(
        Prefetch("figures", queryset=KpiFigure.objects.filter(year=year), to_attr="year_figures"),
    ).order_by("department__name", "system__name", "intended_use__position", "intended_use__name", "name", "pk")
    verdicts = {
        (department_id, system_id, use_id): verdict
        for department_id, system_id, use_id, verdict in statements.values_list(
            "department_id", "system_id", "intended_use_id", "verdict")
    }
    results = []
    for kpi in due:
        value = kpi.year_figures[0].value if kpi.year_figures else None
        verdict = verdicts.get((kpi.department_id, kpi.system_id, kpi.intended_use_id))
        results.append(KpiResult(
            department=kpi.department.name, system=kpi.system.name, intended_use=kpi.intended_use.name,
            kpi=kpi.name, unit=kpi.unit, direction=kpi.direction, target=kpi.target, value=value,
            met=kpi.is_met_by(value), impact=_label(verdict) if verdict else None,
        ))
    return results


def gaps_in(results: list[KpiResult], *, year: int) -> list[str]:
    """What one department's KPI results for `year` (kpi_results) leave its annual report lacking
    (S2.5d): each KPI due with no figure for the year, and each system and use with KPIs due and no
    impact statement. [] when complete."""
    gaps = [f"No figure for {year} of the KPI “{result.kpi}” ({result.system}, {result.intended_use})."
            for result in results if result.value is None]
    stated_or_named = set()
    for result in results:
        key = (result.system, result.intended_use)
        if result.impact is None and key not in stated_or_named:
            stated_or_named.add(key)
            gaps.append(f"No statement for {year} of whether the use of {result.system} for {result.intended_use} "
                        "is having a positive impact.")
    return gaps


def report_gaps(*, department, year) -> list[str]:
    """What the department's annual report for `year` still lacks (S2.5d): gaps_in() of its KPI
    results. Three queries."""
    return gaps_in(kpi_results(year=year, department=department), year=year)


def kpis_visible_to(user) -> QuerySet[Kpi]:
    """The department's head and authorized requesters see its KPIs; the Mayor's designees, ITSA and
    oversight see every one; nobody else sees any."""
    if not user.is_authenticated:
        return Kpi.objects.none()
    if user.roles.is_designee or user.roles.reads_every_department:
        return Kpi.objects.all()
    return Kpi.objects.filter(department__in=department_ids_for(user))


# --- What the pages and services read besides ---------------------------------------------------

def departments_for_kpis(user: User) -> list[Department]:
    """The departments the user may propose KPIs and record figures for: those they head, and those
    they are a current authorized requester of."""
    if not user.is_authenticated:
        return []
    found = {department.pk: department for department in user.roles.headed_departments}
    for department in user.roles.requester_departments:
        found.setdefault(department.pk, department)
    return sorted(found.values(), key=lambda department: department.name)


def authorized_uses(departments) -> list[tuple[DepartmentAccess, IntendedUse]]:
    """Each granted, not revoked, department access of these departments with each intended use it
    names: what a KPI may be proposed for (S2.5a)."""
    accesses = DepartmentAccess.objects.filter(
        department__in=[department.pk for department in departments], status=DepartmentAccess.Status.GRANTED,
    ).select_related("department", "system").prefetch_related("intended_uses").order_by(
        "department__name", "system__name")
    return [(access, use) for access in accesses for use in access.intended_uses.all()]


def is_authorized_for(*, department, system, intended_use) -> bool:
    return DepartmentAccess.objects.filter(
        department=department, system=system, status=DepartmentAccess.Status.GRANTED,
        intended_uses=intended_use,
    ).exists()


def kpis_to_decide(user: User) -> QuerySet[Kpi]:
    """The proposed KPIs the Mayor's designee may decide: every one but their own."""
    if not user.is_authenticated or not user.roles.is_designee:
        return Kpi.objects.none()
    return Kpi.objects.filter(status=Status.PROPOSED).exclude(requested_by=user)


def latest_figures(kpis) -> dict[int, KpiFigure]:
    """The latest figure of each KPI, by KPI id."""
    latest: dict[int, KpiFigure] = {}
    for figure in KpiFigure.objects.filter(kpi__in=[kpi.pk for kpi in kpis]).order_by("kpi_id", "-year"):
        latest.setdefault(figure.kpi_id, figure)
    return latest


def impact_statement(*, department, system, intended_use, year) -> ImpactStatement | None:
    return ImpactStatement.objects.filter(department=department, system=system, intended_use=intended_use,
                                          year=year).first()
