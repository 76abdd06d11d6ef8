"""The reads of reports (Section 2.5): who may read which, and a report's tables and sections.
Publishing lives in reports.services."""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.safestring import SafeString

from accounts.models import Department, User
from portal.pdf import stored_file_matches

from .charts import bar_chart
from .metrics import Figures, Period, city_figures, department_figures, public_tables, shown_value
from .models import PublishedReport


def may_read_department_report(*, department: Department, user: User) -> bool:
    """The head of the department writes its annual report; ITSA and the Mayor's designee read every one."""
    roles = user.roles
    return roles.is_itsa or roles.is_designee or department in roles.headed_departments


def may_read_city_report(*, user: User) -> bool:
    """Before it is published, the citywide report is read by those who compile it."""
    return user.roles.is_designee or user.roles.is_itsa


def reports_visible_to(user: User) -> QuerySet[PublishedReport]:
    if not user.is_authenticated:
        return PublishedReport.objects.none()
    roles = user.roles
    if roles.is_itsa or roles.is_designee:
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


def sections(tables: list[dict], *, public: bool) -> list[Section]:
    """The tables as a report shows them, each breakdown with its chart (SVG, drawn here: no script)."""
    result = []
    for table in tables:
        rows = [(row["label"], shown_value(row, public=public)) for row in table["rows"]]
        chart = None
        if table["key"] != "summary":
            chart = bar_chart(
                title=table["title"], rows=[(row["label"], row["value"]) for row in table["rows"]],
                unit=table.get("unit", ""),
                description=f"{table['value_heading']} by {table['label_heading'].lower()}.",
            )
        result.append(Section(table["key"], table["title"], table["label_heading"], table["value_heading"], rows,
                              chart))
    return result


def report_tables(*, kind: str, department: Department | None, period: Period) -> list[dict]:
    """The report's tables computed now; the citywide report's are already fit for the public."""
    if kind == PublishedReport.Kind.CITY_BIANNUAL:
        return public_tables(city_figures(period=period).tables())
    figures: Figures = department_figures(department=department, period=period)
    return figures.tables()


def report_is_intact(report: PublishedReport) -> bool:
    """The stored PDF still matches the SHA-256 taken when it was published."""
    return stored_file_matches(report.pdf, report.pdf_sha256)
