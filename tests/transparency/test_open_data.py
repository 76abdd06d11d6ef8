"""Open data downloads of the public reports' figures (S2.6), as CSV and as JSON."""

import csv
import io
import json
from datetime import date, datetime

import pytest
from django.test import Client
from django.urls import reverse
from public_helpers import FIGURES, publish_report, published_version

HEADER = ["report", "period_start", "period_end", "table", "label", "value"]


@pytest.fixture
def anonymous():
    return Client()


def _csv(client) -> list[list[str]]:
    response = client.get(reverse("transparency:open_data_csv"))
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"))))


def _json(client) -> dict:
    response = client.get(reverse("transparency:open_data_json"))
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_csv_has_a_row_for_each_figure_of_every_public_report_with_fewer_than_5_for_a_count_left_out(
        city, anonymous):
    """S2.6: data on use and effectiveness goes to open data, with no count that could single a person out."""
    first = publish_report(by=city.designee, title="Citywide report, second half of 2025",
                           period_start=date(2025, 7, 1), period_end=date(2025, 12, 31))
    second = publish_report(by=city.designee)
    publish_report(by=city.designee, is_public=False, kind="department_annual", department=city.police,
                   title="Police Department annual report")

    header, *rows = _csv(anonymous)

    assert header == HEADER
    expected = [
        [report.title, report.period_start.isoformat(), report.period_end.isoformat(), table["title"], row["label"],
         "fewer than 5" if row["value"] is None else str(row["value"])]
        for report in (second, first) for table in FIGURES for row in table["rows"]
    ]
    assert rows == expected
    assert ["Citywide report, first half of 2026", "2026-01-01", "2026-06-30", "Accounts by system",
            "Plate Readers", "fewer than 5"] in rows
    assert not any("Police Department annual report" in row[0] for row in rows)


def test_the_json_keeps_null_for_a_count_left_out_and_says_what_null_means(city, anonymous):
    """S2.6"""
    published_version(city, number="1.0")
    report = publish_report(by=city.designee)

    data = _json(anonymous)

    assert data["policy_version"] == "1.0"
    assert datetime.fromisoformat(data["generated_at"]).tzinfo is not None
    assert "null" in data["note"] and "fewer than 5" in data["note"]
    [published] = data["reports"]
    assert published == {"title": report.title, "period_start": "2026-01-01", "period_end": "2026-06-30",
                         "pdf_sha256": report.pdf_sha256, "tables": FIGURES}
    assert published["tables"][0]["rows"][1] == {"label": "Plate Readers", "value": None}


def test_the_json_carries_only_the_published_parts_of_each_table(city, anonymous):
    """S2.6: nothing but the table's headings, unit, labels and values leaves the portal."""
    table = {**FIGURES[0], "rows": [{"label": "Citywide VMS", "value": 12, "people": ["Olive Officer"]}],
             "notes": "Olive Officer holds most of them."}
    publish_report(by=city.designee, figures=[table])

    body = anonymous.get(reverse("transparency:open_data_json")).content.decode()
    assert "Olive Officer" not in body
    assert "Olive Officer" not in anonymous.get(reverse("transparency:open_data_csv")).content.decode()


def test_cells_a_spreadsheet_would_run_as_formulas_are_quoted(city, anonymous):
    """S2.6: open data must not run code in the spreadsheet of whoever opens it."""
    figures = [{"key": "k", "title": "@SUM(1+1)", "label_heading": "System", "value_heading": "Accounts", "unit": "",
                "rows": [{"label": "+1-1", "value": 7}, {"label": "-2+3", "value": None},
                         {"label": "=cmd|' /C calc'!A0", "value": 9}]}]
    publish_report(by=city.designee, title='=HYPERLINK("https://example.invalid","click")', figures=figures)

    _, *rows = _csv(anonymous)

    assert {row[0] for row in rows} == {"'=HYPERLINK(\"https://example.invalid\",\"click\")"}
    assert {row[3] for row in rows} == {"'@SUM(1+1)"}
    assert [row[4] for row in rows] == ["'+1-1", "'-2+3", "'=cmd|' /C calc'!A0"]
    assert [row[5] for row in rows] == ["7", "fewer than 5", "9"]
    # The JSON is data, not a spreadsheet: its text stays as published.
    assert _json(anonymous)["reports"][0]["title"].startswith("=HYPERLINK")


@pytest.mark.parametrize(("name", "filename", "content_type"), [
    ("transparency:open_data_csv", "open-data.csv", "text/csv"),
    ("transparency:open_data_json", "open-data.json", "application/json"),
])
def test_each_download_is_an_attachment(db, anonymous, name, filename, content_type):
    response = anonymous.get(reverse(name))

    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert response["Content-Type"].startswith(content_type)


def test_with_nothing_published_the_downloads_are_empty_but_well_formed(db, anonymous):
    assert _csv(anonymous) == [HEADER]
    data = _json(anonymous)
    assert data["reports"] == [] and data["policy_version"] is None
