"""The reports state impact from the KPIs (S2.5d): the department's annual report shows each KPI with
its target, the year's figure, whether it was met and the department's verdict, and is refused while
one is missing; the citywide report and the open data carry the effectiveness by intended use (S2.5d,
S2.6b)."""

import csv
import hashlib
import io
import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from conftest import make_pdf, pdf_text
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from kpis.models import ImpactStatement, Kpi, KpiFigure
from kpis.selectors import KpiResult
from portal.errors import RuleViolation
from portal.models import AuditEvent, IntendedUse
from reports.metrics import Period, effectiveness_table, kpi_year
from reports.models import PublishedReport
from reports.selectors import report_tables, sections
from reports.services import report_publish

Kind = PublishedReport.Kind


def _moment(day: date) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, 12))


def last_year() -> int:
    return timezone.localdate().year - 1


def public_safety() -> IntendedUse:
    return IntendedUse.objects.get(code="public-safety")


def approved_kpi(city, *, name="Stolen vehicles recovered", unit="vehicles", direction="higher", target="40",
                 department=None, system=None, intended_use=None) -> Kpi:
    kpi = Kpi.objects.create(
        department=department or city.police, system=system or city.vms, intended_use=intended_use or public_safety(),
        name=name, measure="Counted from the case files.", unit=unit, direction=direction, target=Decimal(target),
        status=Kpi.Status.APPROVED, requested_by=city.head, decided_by=city.designee,
        decided_at=_moment(date(last_year(), 1, 15)),
    )
    return kpi


def figure(kpi, value, year=None):
    return KpiFigure.objects.create(kpi=kpi, year=year or last_year(), value=Decimal(value),
                                    recorded_by=kpi.department.head, recorded_at=timezone.now())


def verdict(city, verdict_code, *, department=None, system=None, year=None, intended_use=None):
    department = department or city.police
    return ImpactStatement.objects.create(
        department=department, system=system or city.vms, intended_use=intended_use or public_safety(),
        year=year or last_year(), verdict=verdict_code, explanation="From the year's figures.",
        written_by=department.head, written_at=timezone.now(),
    )


def test_the_annual_report_is_refused_while_a_kpi_lacks_its_figure_or_verdict(city):
    """S2.5d: the report must state the impact from the data: no figure or no verdict, no report."""
    kpi = approved_kpi(city)
    with pytest.raises(RuleViolation, match="Stolen vehicles recovered"):
        report_publish(kind=Kind.DEPARTMENT_ANNUAL, department=city.police, period=Period.year(last_year()),
                       by=city.head)
    figure(kpi, "45")
    with pytest.raises(RuleViolation, match="positive impact"):
        report_publish(kind=Kind.DEPARTMENT_ANNUAL, department=city.police, period=Period.year(last_year()),
                       by=city.head)
    assert not PublishedReport.objects.exists()
    assert AuditEvent.objects.filter(action="report.publish", outcome="refused").count() == 2


def test_publishing_states_the_kpis_and_freezes_their_figures(city, django_capture_on_commit_callbacks):
    """S2.5d: the annual report shows each KPI against its target with the verdict, and freezes them."""
    recovered = approved_kpi(city)
    response = approved_kpi(city, name="Minutes to find footage", unit="minutes", direction="lower", target="30")
    figure(recovered, "45")
    figure(response, "32.5")
    statement = verdict(city, ImpactStatement.Verdict.POSITIVE)
    with django_capture_on_commit_callbacks(execute=True):
        report = report_publish(kind=Kind.DEPARTMENT_ANNUAL, department=city.police,
                                period=Period.year(last_year()), by=city.head)
    [table] = [table for table in report.figures if table["key"] == "kpis"]
    [section] = [section for section in sections(report.figures, public=False) if section.key == "kpis"]
    assert section.columns == ["System", "Intended use", "Target", "Figure for the year", "Met", "Impact verdict"]
    rows = dict(section.rows)
    assert rows["Stolen vehicles recovered"] == [city.vms.name, public_safety().name, "at least 40 vehicles",
                                                 "45 vehicles", "met", "Positive impact"]
    assert rows["Minutes to find footage"][2:5] == ["at most 30 minutes", "32.5 minutes", "not met"]
    assert all({"label", "value"} <= set(row) for row in table["rows"])
    assert KpiFigure.objects.filter(frozen_at__isnull=True).count() == 0
    statement.refresh_from_db()
    assert statement.frozen_at is not None
    text = pdf_text(report.pdf.read())
    assert "KPIs and impact" in text
    assert "Stolen vehicles recovered" in text and "Positive impact" in text


def test_a_department_without_kpis_has_no_gaps_and_an_empty_kpi_table(city):
    """S2.5d: a department with no KPI due submits as before; its report says no KPI was due."""
    tables = report_tables(kind=Kind.DEPARTMENT_ANNUAL, department=city.police, period=Period.year(last_year()))
    [table] = [table for table in tables if table["key"] == "kpis"]
    assert table["rows"] == []


def test_the_live_report_page_lists_what_is_missing(city, client):
    """S2.5d: the head sees, before submitting, which figures and verdicts are missing."""
    approved_kpi(city)
    client.force_login(city.head)
    page = client.get(reverse("reports:department", args=[city.police.pk, last_year()])).content.decode()
    assert "Missing:" in page
    assert "Stolen vehicles recovered" in page
    assert "KPIs and impact" in page


def test_a_head_posting_the_report_with_gaps_is_told_why(city, client):
    """S2.5d: the way around (posting the submit form directly) is refused with the gaps."""
    approved_kpi(city)
    client.force_login(city.head)
    response = client.post(reverse("reports:department_publish", args=[city.police.pk, last_year()]))
    assert response.status_code == 302
    assert not PublishedReport.objects.exists()


# --- Effectiveness by intended use ----------------------------------------------------------------------

def result(department, system, use, value, met, impact, kpi="K"):
    return KpiResult(department=department, system=system, intended_use=use, kpi=kpi, unit="", direction="higher",
                     target=Decimal(1), value=None if value is None else Decimal(value), met=met, impact=impact)


def test_the_effectiveness_table_counts_departments_kpis_met_and_verdicts():
    """S2.5d, S2.6b: per intended use, departments reporting, KPIs met of those with a figure, and each
    verdict once per department and system."""
    table = effectiveness_table([
        result("Police", "VMS", "Public safety", "5", True, "Positive impact", kpi="A"),
        result("Police", "VMS", "Public safety", "1", False, "Positive impact", kpi="B"),
        result("Police", "LPR", "Public safety", None, None, "Too early to tell"),
        result("Fire", "VMS", "Public safety", "3", True, None),
        result("Streets", "Cams", "Traffic management", None, None, None),
    ])
    grid = {}
    for row in table["rows"]:
        grid.setdefault(row["row_label"], {})[row["column"]] = row["value"]
    assert grid["Public safety"] == {
        "Departments reporting": 2, "KPIs met": 2, "KPIs with a figure": 3, "Positive impact": 1,
        "No clear impact": 0, "Negative impact": 0, "Too early to tell": 1,
    }
    assert grid["Traffic management"]["Departments reporting"] == 0
    assert {row["label"] for row in table["rows"]} >= {"Public safety: KPIs met", "Traffic management: KPIs met"}


def test_the_citywide_report_speaks_for_the_kpi_year_that_ended_last():
    """S2.5d: July–December of Y speaks for Y; January–June of Y for Y-1."""
    assert kpi_year(Period.half(2026, 2)) == 2026
    assert kpi_year(Period.half(2026, 1)) == 2025


def test_the_citywide_report_carries_the_effectiveness_by_intended_use(city):
    """S2.5d, S2.6b: the citywide report of July–December gives the year's effectiveness, no count held back."""
    kpi = approved_kpi(city)
    figure(kpi, "45")
    verdict(city, ImpactStatement.Verdict.POSITIVE)
    tables = report_tables(kind=Kind.CITY_BIANNUAL, department=None, period=Period.half(last_year(), 2))
    [table] = [table for table in tables if table["key"] == "effectiveness_by_use"]
    values = {row["label"]: row["value"] for row in table["rows"]}
    use = public_safety().name
    assert values[f"{use}: Departments reporting"] == 1
    assert values[f"{use}: KPIs met"] == 1
    assert values[f"{use}: Positive impact"] == 1
    earlier = report_tables(kind=Kind.CITY_BIANNUAL, department=None, period=Period.half(last_year(), 1))
    [table] = [table for table in earlier if table["key"] == "effectiveness_by_use"]
    assert table["rows"] == []


@pytest.fixture
def city_report_published(city):
    kpi = approved_kpi(city)
    figure(kpi, "45")
    verdict(city, ImpactStatement.Verdict.POSITIVE)
    period = Period.half(last_year(), 2)
    pdf = make_pdf()
    report = PublishedReport(
        kind=Kind.CITY_BIANNUAL, period_start=period.start, period_end=period.end, title="Citywide report",
        figures=report_tables(kind=Kind.CITY_BIANNUAL, department=None, period=period), is_public=True,
        published_by=city.designee, published_at=timezone.now(), pdf_sha256=hashlib.sha256(pdf).hexdigest(),
    )
    report.pdf.save("report.pdf", ContentFile(pdf), save=False)
    report.save()
    return report


def test_the_open_data_carries_the_effectiveness_table(city_report_published, client):
    """S2.6b: the data on the effectiveness of surveillance technology goes to the open data, CSV and JSON."""
    use = public_safety().name
    rows = list(csv.DictReader(io.StringIO(client.get(reverse("transparency:open_data_csv")).content.decode())))
    effectiveness = {row["label"]: row["value"] for row in rows if row["table"] == "Effectiveness by intended use"}
    assert effectiveness[f"{use}: KPIs met"] == "1"
    assert effectiveness[f"{use}: Positive impact"] == "1"
    data = json.loads(client.get(reverse("transparency:open_data_json")).content)
    [report] = data["reports"]
    [table] = [table for table in report["tables"] if table["key"] == "effectiveness_by_use"]
    assert {"label": f"{use}: KPIs with a figure", "value": 1} in table["rows"]
    assert set(table) == {"key", "title", "label_heading", "value_heading", "unit", "rows"}


def test_the_public_report_page_shows_the_effectiveness_as_a_table(city_report_published, client):
    """S2.6b: on the public page the table has a column for each count."""
    page = client.get(reverse("transparency:report", args=[city_report_published.pk])).content.decode()
    assert "Effectiveness by intended use" in page
    assert '<th scope="col">Departments reporting</th>' in page
    assert '<th scope="col">Too early to tell</th>' in page
