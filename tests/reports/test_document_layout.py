"""The report PDFs read as people expect (S2.5b, S2.5c): each figure titled once, chart labels whole
however long, and "fewer than 5" on one line in the value column."""

import xml.etree.ElementTree as ET

import pytest
from conftest import pdf_text, provisioned
from django.template.loader import render_to_string
from django.utils import timezone

from reports.charts import bar_chart
from reports.metrics import Period
from reports.models import PublishedReport
from reports.selectors import report_tables, sections
from reports.services import report_document

Kind = PublishedReport.Kind
SVG = "{http://www.w3.org/2000/svg}"
# As long as the fields allow: a system's name, and a permissible use and its intended use.
LONG_SYSTEM = ("Real-time crime centre video management and licence plate recognition platform of the north "
               "district, with the archive and the mirror of the archive kept by the ")[:150]
LONG_USE = ("Detection of potential hazards and obstructions in the right-of-way (for example suspicious "
            "packages, potholes, cracks in pavement)")[:120]


def _periods():
    today = timezone.localdate()
    return Period.year(today.year), Period.half(today.year, 1 if today.month <= 6 else 2)


@pytest.fixture
def long_names(city):
    city.vms.name = LONG_SYSTEM
    city.vms.save()
    city.crime_detection.name = LONG_USE
    city.crime_detection.save()
    provisioned(city)
    provisioned(city, person=city.analyst)
    return city


def _reports(city):
    year, half = _periods()
    annual = report_tables(kind=Kind.DEPARTMENT_ANNUAL, department=city.police, period=year)
    citywide = report_tables(kind=Kind.CITY_BIANNUAL, department=None, period=half)
    return {
        "annual": (annual, report_document(kind=Kind.DEPARTMENT_ANNUAL, department=city.police, period=year,
                                           tables=annual).content),
        "citywide": (citywide, report_document(kind=Kind.CITY_BIANNUAL, department=None, period=half,
                                               tables=citywide).content),
    }


def test_each_figure_is_titled_once_in_the_report_pdfs(long_names):
    """S2.5b S2.5c: the section heading titles the chart and the table; neither repeats it."""
    for name, (tables, content) in _reports(long_names).items():
        # The figures, without the closing notes on how they are counted (which name some of them).
        figures = pdf_text(content).split("How the figures are counted")[0]
        for table in tables:
            times = figures.count(table["title"])
            assert times == 1, f"{name}: {table['title']!r} {times} times"


def test_no_chart_label_is_cut_in_the_report_pdfs(long_names):
    """S2.5b S2.5c: the longest system and use names are printed whole, in the chart and the table."""
    for name, (_tables, content) in _reports(long_names).items():
        text = pdf_text(content)
        assert "…" not in text, name
        flat = "".join(text.split())
        # Once in the table and once, wrapped over lines, in the chart.
        assert flat.count("".join(LONG_SYSTEM.split())) == 2, name
        assert flat.count("".join(f"{long_names.crime_detection.intended_use.name}: {LONG_USE}".split())) == 2, name


def test_the_charts_of_a_report_draw_no_title_and_no_shortened_label(long_names):
    """S2.5b: under its heading the chart draws no title of its own; its <title> still names it."""
    year, _half = _periods()
    tables = report_tables(kind=Kind.DEPARTMENT_ANNUAL, department=long_names.police, period=year)

    charts = [section for section in sections(tables, public=False) if section.chart]

    assert charts
    for section in charts:
        drawn = [text.text for svg in _svgs(section.chart) for text in svg.iter(f"{SVG}text")]
        assert section.title not in drawn
        assert not any(text.endswith("…") for text in drawn)
        assert _svgs(section.chart)[0].find(f"{SVG}title").text == section.title


def test_fewer_than_5_sits_in_a_value_cell_that_does_not_wrap(long_names):
    """S2.5c S2.6: the suppressed count is in a numeric cell, which the print style keeps on one line."""
    _year, half = _periods()
    tables = report_tables(kind=Kind.CITY_BIANNUAL, department=None, period=half)
    html = render_to_string("pdf/report.html", {
        "title": "t", "kind": Kind.CITY_BIANNUAL, "public": True, "department": None, "period": half,
        "sections": sections(tables, public=True), "generated_at": timezone.now()})

    assert '<td class="number">fewer than 5</td>' in html
    css = open("static/print/document.css").read()
    assert "td.number, th.number { text-align: right; white-space: nowrap;" in css
    content = _reports(long_names)["citywide"][1]
    assert "fewer than 5" in pdf_text(content, layout=True)  # on one line, not "fewer than" / "5"


def test_a_long_label_wraps_whole_over_lines():
    """S2.5b: the way around before: a long label was cut with "…"; now every word is drawn."""
    label = "Police Department real-time crime centre video management system, north district " * 2

    [svg] = _svgs(bar_chart(title="Grants", rows=[(label.strip(), 9)], titled=False))

    drawn = [text.text for text in svg.iter(f"{SVG}text")]
    assert " ".join(drawn[:-1]) == " ".join(label.split())
    assert drawn[-1] == "9"


def test_a_long_chart_comes_in_parts_on_one_scale():
    """S2.5b: a chart taller than a page is drawn in parts a page can break between, bars on one scale."""
    rows = [(f"System {number:02}", number + 1) for number in range(60)]

    parts = _svgs(bar_chart(title="Grants by system", rows=rows, titled=False, part_height=300))

    assert len(parts) > 1
    assert all(float(svg.get("height")) <= 300 for svg in parts)
    bars = [float(rect.get("width")) for svg in parts for rect in svg.iter(f"{SVG}rect")]
    assert len(bars) == 60 and bars == sorted(bars)
    assert [svg.find(f"{SVG}title").text for svg in parts][1:] == ["Grants by system (continued)"] * (len(parts) - 1)


def _svgs(markup) -> list:
    return list(ET.fromstring(f"<div>{markup}</div>"))
