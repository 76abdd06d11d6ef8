"""The reads of reports (Section 2.5): who may read which, and a report's tables and sections.
Publishing lives in reports.services."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString

from access_requests.models import DepartmentAccess
from accounts.models import Department, User
from kpis.selectors import gaps_in, kpi_results
from portal.pdf import stored_file_matches

from .charts import bar_chart
from .metrics import (Figures, Period, city_figures, department_figures, effectiveness_table, kpi_table, kpi_year,
                      public_tables, shown_value)
from .models import PublishedReport


def may_read_department_report(*, department: Department, user: User) -> bool:
    """The head of the department writes its annual report; ITSA, oversight and the Mayor's designee read
    every one."""
    roles = user.roles
    return roles.reads_every_department or roles.is_designee or department in roles.headed_departments


def may_read_city_report(*, user: User) -> bool:
    """Before it is published, the citywide report is read by those who compile it, and by oversight."""
    return user.roles.is_designee or user.roles.reads_every_department


def reports_visible_to(user: User) -> QuerySet[PublishedReport]:
    if not user.is_authenticated:
        return PublishedReport.objects.none()
    roles = user.roles
    if roles.reads_every_department or roles.is_designee:
        return PublishedReport.objects.all()
    return PublishedReport.objects.filter(kind=PublishedReport.Kind.DEPARTMENT_ANNUAL, department__in=roles.headed_departments) | \
        PublishedReport.objects.filter(is_public=True)


@dataclass
class Section:
    key: str
    title: str
    label_heading: str
    value_heading: str
    rows: list[tuple[str, str]]
    chart: SafeString | None
    columns: list[str] | None = None  # a table of several columns: rows are (label, [cell, ...])


def _grid_section(table: dict) -> Section:
    rows: dict[int, tuple[str, list[str]]] = {}
    for row in table["rows"]:
        rows.setdefault(row["row"], (row["row_label"], []))[1].append(shown_value(row, public=False))
    return Section(table["key"], table["title"], table["label_heading"], table["value_heading"],
                   [rows[number] for number in sorted(rows)], None, columns=table["columns"])


# A long chart is drawn in parts no taller than this, so that a printed page breaks between parts
# rather than cutting off a chart taller than the page.
CHART_PART_HEIGHT = 300


def sections(tables: list[dict], *, public: bool) -> list[Section]:
    """The tables as a report shows them, each breakdown with its chart (SVG, drawn here: no script)."""
    result = []
    for table in tables:
        if table.get("columns"):
            result.append(_grid_section(table))
            continue
        rows = [(row["label"], shown_value(row, public=public)) for row in table["rows"]]
        chart = None
        if table["key"] != "summary":
            # Under the section's heading, which titles the chart and its table once.
            chart = bar_chart(
                title=table["title"], rows=[(row["label"], row["value"]) for row in table["rows"]],
                unit=table.get("unit", ""),
                description=f"{table['value_heading']} by {table['label_heading'].lower()}.", titled=False,
                part_height=CHART_PART_HEIGHT,
            )
        result.append(Section(table["key"], table["title"], table["label_heading"], table["value_heading"], rows,
                              chart))
    return result


def report_tables(*, kind: str, department: Department | None, period: Period) -> list[dict]:
    """The report's tables computed now; the citywide report's are already fit for the public. The
    department's report ends with its KPIs and impact (S2.5d), the citywide report with the
    effectiveness by intended use of the last KPI year it covers (S2.5d, S2.6b)."""
    return report_tables_and_gaps(kind=kind, department=department, period=period)[0]


def report_tables_and_gaps(*, kind: str, department: Department | None,
                           period: Period) -> tuple[list[dict], list[str]]:
    """The report's tables (report_tables) and what a department's annual report still lacks before
    it can be submitted (S2.5d; none for the citywide report), from one reading of its KPI results."""
    if kind == PublishedReport.Kind.CITY_BIANNUAL:
        return [*public_tables(city_figures(period=period).tables()),
                effectiveness_table(kpi_results(year=kpi_year(period)))], []
    figures: Figures = department_figures(department=department, period=period)
    results = kpi_results(year=period.start.year, department=department)
    return [*figures.tables(), kpi_table(results)], gaps_in(results, year=period.start.year)


def report_is_intact(report: PublishedReport) -> bool:
    """The stored PDF still matches the SHA-256 taken when it was published."""
    return stored_file_matches(report.pdf, report.pdf_sha256)


# --- Reports due (2.5) ----------------------------------------------------------------------------

# How far back the portal asks for reports: the last two years and the last two half-years that ended.
PERIODS_DUE = 2


@dataclass(frozen=True)
class ReportDue:
    """A report that should exist and is not published: its due date and how late it is."""

    kind: str
    department: Department | None
    period: Period
    due_on: date
    today: date

    @property
    def days_left(self) -> int:
        return (self.due_on - self.today).days

    @property
    def is_overdue(self) -> bool:
        return self.today > self.due_on

    @property
    def days_late(self) -> int:
        return max(0, -self.days_left)

    @property
    def label(self) -> str:
        if self.kind == PublishedReport.Kind.CITY_BIANNUAL:
            return f"Citywide report, {self.period.label}"
        return f"Annual report of {self.department.name}, {self.period.label}"

    @property
    def url(self) -> str:
        if self.kind == PublishedReport.Kind.CITY_BIANNUAL:
            return reverse("reports:city", args=[self.period.start.year, 1 if self.period.start.month == 1 else 2])
        return reverse("reports:department", args=[self.department.pk, self.period.start.year])


def ended_years(today: date) -> list[Period]:
    return [Period.year(today.year - back) for back in range(1, PERIODS_DUE + 1)]


def ended_halves(today: date) -> list[Period]:
    year, half = (today.year, 1) if today.month > 6 else (today.year - 1, 2)
    periods = []
    for _ in range(PERIODS_DUE):
        periods.append(Period.half(year, half))
        year, half = (year, 1) if half == 2 else (year - 1, 2)
    return periods


def _held_access(period: Period) -> Q:
    """Department access granted before the period ended and not revoked before it began."""
    return (Q(status__in=[DepartmentAccess.Status.GRANTED, DepartmentAccess.Status.REVOKED])
            & Q(decided_at__lt=period.end_at)
            & (Q(revoked_at__isnull=True) | Q(revoked_at__gte=period.start_at)))


def _departments_held(years: list[Period]) -> dict[date, set[int]]:
    """By the start of each year, the departments authorized (granted department access) during it:
    one grouped row a department, whatever the number of its accesses."""
    held = Q()
    for period in years:
        held |= _held_access(period)
    rows = list(DepartmentAccess.objects.filter(held).values("department_id").annotate(
        **{f"held_{number}": Count("pk", filter=_held_access(period)) for number, period in enumerate(years)}
    ).order_by())
    return {period.start: {row["department_id"] for row in rows if row[f"held_{number}"]}
            for number, period in enumerate(years)}


def _published_keys(years: list[Period], halves: list[Period]) -> set[tuple[str, int | None, date]]:
    Kind = PublishedReport.Kind
    return set(PublishedReport.objects.filter(
        Q(kind=Kind.DEPARTMENT_ANNUAL, period_start__in=[year.start for year in years])
        | Q(kind=Kind.CITY_BIANNUAL, period_start__in=[half.start for half in halves])
    ).values_list("kind", "department_id", "period_start"))


def _due_unread(today: date) -> list[tuple[str, int | None, Period, date]]:
    """Each report due and not published, as (kind, department id or None, period, due date), without
    reading a department. Two queries."""
    Kind = PublishedReport.Kind
    years, halves = ended_years(today), ended_halves(today)
    held = _departments_held(years)
    published = _published_keys(years, halves)
    annual_days = timedelta(days=settings.DEPARTMENT_REPORT_DUE_DAYS)
    city_days = timedelta(days=settings.CITY_REPORT_DUE_DAYS)
    due = [(Kind.DEPARTMENT_ANNUAL, department_id, year, year.end + annual_days)
           for year in years for department_id in held[year.start]
           if (Kind.DEPARTMENT_ANNUAL, department_id, year.start) not in published]
    due += [(Kind.CITY_BIANNUAL, None, half, half.end + city_days) for half in halves
            if (Kind.CITY_BIANNUAL, None, half.start) not in published]
    return due


def _reports_due(today: date, departments: QuerySet[Department]) -> list[ReportDue]:
    due = _due_unread(today)
    found = departments.in_bulk({department_id for _, department_id, _, _ in due if department_id is not None})
    rows = [ReportDue(kind, found[department_id] if department_id is not None else None, period, due_on, today)
            for kind, department_id, period, due_on in due]
    return sorted(rows, key=lambda row: (row.due_on, row.kind, row.department.name if row.department else ""))


def reports_due(*, today: date | None = None) -> list[ReportDue]:
    """The reports that should exist and are not published (2.5): the annual report of every department
    authorized (granted department access) during each of the last two ended years, and the citywide
    report of the last two ended half-years; each with its due date (DEPARTMENT_REPORT_DUE_DAYS,
    CITY_REPORT_DUE_DAYS after the period). Most overdue first. Three queries."""
    return _reports_due(today or timezone.localdate(), Department.objects.select_related("head"))


def reports_overdue_count(*, today: date | None = None) -> int:
    """How many of reports_due() are overdue, counted without reading a department. Two queries."""
    today = today or timezone.localdate()
    return sum(ReportDue(kind, None, period, due_on, today).is_overdue
               for kind, _, period, due_on in _due_unread(today))


def reports_due_for(user: User, *, today: date | None = None) -> list[ReportDue]:
    """The reports due that the user may publish or read: a head, the department's annual reports;
    the Mayor's designee and ITSA, every one."""
    if not user.is_authenticated:
        return []
    roles = user.roles
    # The page shows each department by its name alone: not its head, as reports_due() reads for the reminders.
    due = _reports_due(today or timezone.localdate(), Department.objects.only("pk", "name"))
    if roles.is_designee or roles.reads_every_department:
        return due
    headed = {department.pk for department in roles.headed_departments}
    return [row for row in due if row.department is not None and row.department.pk in headed]
