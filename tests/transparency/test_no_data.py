"""A figure with nothing to measure reads "none", not "fewer than 5": a count held back (S2.6) and an
empty period are different truths, on the report, the public page and in the open data."""

import csv
import io
import json

from django.urls import reverse
from public_helpers import publish_report

from reports.metrics import ACCOUNTS_MEASURED, MEDIAN_DAYS, P90_DAYS, public_tables
from reports.selectors import sections


def _summary(measured, median, p90):
    return [{"key": "summary", "title": "Summary", "label_heading": "Figure", "value_heading": "Value", "unit": "",
             "rows": [{"label": ACCOUNTS_MEASURED, "value": measured}, {"label": MEDIAN_DAYS, "value": median},
                      {"label": P90_DAYS, "value": p90}]}]


def _shown(tables, *, public):
    [section] = sections(tables, public=public)
    return dict(section.rows)


def test_times_with_no_account_measured_read_none_on_the_public_report():
    """S2.6"""
    shown = _shown(public_tables(_summary(0, None, None)), public=True)

    assert shown[MEDIAN_DAYS] == shown[P90_DAYS] == "none"


def test_times_of_too_few_accounts_still_read_fewer_than_5():
    """S2.6"""
    shown = _shown(public_tables(_summary(3, 2.0, 4.0)), public=True)

    assert shown[MEDIAN_DAYS] == shown[P90_DAYS] == "fewer than 5"


def test_the_internal_report_reads_none_where_nothing_was_measured():
    """S2.5a"""
    shown = _shown(_summary(0, None, None), public=False)

    assert shown[MEDIAN_DAYS] == "none" and shown[ACCOUNTS_MEASURED] == "0"


def test_the_open_data_marks_a_row_with_no_data_apart_from_a_count_held_back(city, client):
    """S2.6"""
    publish_report(by=city.designee, figures=public_tables(_summary(0, None, None)))

    rows = list(csv.reader(io.StringIO(client.get(reverse("transparency:open_data_csv")).content.decode())))
    assert {row[4]: row[5] for row in rows[1:]}[MEDIAN_DAYS] == "none"

    data = json.loads(client.get(reverse("transparency:open_data_json")).content)
    [median] = [row for row in data["reports"][0]["tables"][0]["rows"] if row["label"] == MEDIAN_DAYS]
    assert median == {"label": MEDIAN_DAYS, "value": None, "no_data": True}
    assert "no_data" in data["note"]
