"""`manage.py render_report`: a report or an attestation written to a file, for scripts and cron
(S2.5b, S2.5c, S3.4f). It renders the figures as they are now and publishes nothing."""

import io
import json

import pytest
from conftest import pdf_text, provisioned
from django.core.management import CommandError, call_command
from django.utils import timezone

from reports.metrics import GRANTS_TOTAL, Period, SUPPRESSED_TEXT
from reports.models import PublishedReport
from audits.services import open_due_validations


def render(*args, **options) -> str:
    """Run the command; returns what it said on standard error."""
    stderr = io.StringIO()
    call_command("render_report", *args, stderr=stderr, **options)
    return stderr.getvalue()


def summary(tables: list[dict]) -> dict:
    [table] = [table for table in tables if table["key"] == "summary"]
    return {row["label"]: row["value"] for row in table["rows"]}


@pytest.fixture
def this_year():
    return timezone.localdate().year


@pytest.fixture
def this_half():
    today = timezone.localdate()
    return Period.half(today.year, 1 if today.month <= 6 else 2)


def test_it_writes_a_departments_annual_report_as_pdf(city, tmp_path, this_year):
    """S2.5b"""
    provisioned(city)
    output = tmp_path / "police.pdf"

    said = render("department", department=city.police.code, year=this_year, output=str(output))

    content = output.read_bytes()
    text = pdf_text(content)
    assert content.startswith(b"%PDF-")
    assert f"Annual report of {city.police.name}" in text
    assert city.police.name in text and str(this_year) in text
    assert city.vms.name in text  # the grant's system, from the figures
    assert f"Wrote {len(content):,} bytes to {output}" in said
    assert not PublishedReport.objects.exists()


def test_it_writes_the_citywide_report_as_pdf_with_small_counts_hidden(city, tmp_path, this_half):
    """S2.5c S2.6: the citywide report is the public one, so its one grant reads "fewer than 5"."""
    provisioned(city)
    output = tmp_path / "city.pdf"

    render("city", year=this_half.start.year, half=1 if this_half.start.month == 1 else 2, output=str(output))

    text = pdf_text(output.read_bytes())
    assert f"Citywide report on surveillance technology, {this_half.label}" in text
    assert SUPPRESSED_TEXT in text
    assert city.officer.full_name not in text


def test_it_writes_a_departments_tables_as_json(city, tmp_path, this_year):
    """S2.5b: the same figures as the PDF, for scripts."""
    provisioned(city)
    provisioned(city, person=city.analyst)
    output = tmp_path / "police.json"

    render("department", department=city.police.code, year=this_year, format="json", output=str(output))

    data = json.loads(output.read_text())
    period = Period.year(this_year)
    assert (data["period_start"], data["period_end"]) == (period.start.isoformat(), period.end.isoformat())
    assert {table["key"] for table in data["tables"]} >= {"summary", "grants_by_system", "grants_by_use"}
    assert summary(data["tables"])[GRANTS_TOTAL] == 2
    [by_system] = [table for table in data["tables"] if table["key"] == "grants_by_system"]
    assert by_system["rows"] == [{"label": city.vms.name, "value": 2}]


def test_the_citywide_json_leaves_small_counts_out(city, tmp_path, this_half):
    """S2.6: a count from 1 to 4 is null in the citywide figures."""
    provisioned(city)
    output = tmp_path / "city.json"

    render("city", year=this_half.start.year, half=1 if this_half.start.month == 1 else 2, format="json",
           output=str(output))

    assert summary(json.loads(output.read_text())["tables"])[GRANTS_TOTAL] is None


def test_it_writes_a_validations_attestation(city, tmp_path):
    """S3.4e S3.4f: the attestation, named by the validation's number."""
    provisioned(city)
    [validation] = open_due_validations()
    output = tmp_path / "attestation.pdf"

    render("attestation", validation=validation.pk, output=str(output))

    text = pdf_text(output.read_bytes())
    assert f"Annual validation of {city.police.name}" in text
    assert city.officer.full_name in text
    assert "Not signed off yet" in text


def test_an_attestation_is_stopped_at_the_seconds_given(city, tmp_path):
    """Without --seconds it has the worker's limit (PDF_WORKER_RENDER_SECONDS); with it, that one."""
    provisioned(city)
    [validation] = open_due_validations()

    with pytest.raises(CommandError, match="took longer than"):
        render("attestation", validation=validation.pk, seconds=0.000001, output=str(tmp_path / "a.pdf"))
    assert not (tmp_path / "a.pdf").exists()


def test_output_dash_writes_the_pdf_to_standard_output(city, capsysbinary, this_year):
    render("department", department=city.police.code, year=this_year, output="-")

    content = capsysbinary.readouterr().out
    assert content.startswith(b"%PDF-")
    assert f"Annual report of {city.police.name}" in pdf_text(content)


def test_output_dash_writes_json_to_standard_output(city, capsysbinary, this_year):
    render("department", department=city.police.code, year=this_year, format="json", output="-")

    data = json.loads(capsysbinary.readouterr().out)
    assert summary(data["tables"])[GRANTS_TOTAL] == 0


@pytest.mark.parametrize(("args", "options", "message"), [
    (["department"], {"year": 2025}, "Name the department's code with --department."),
    (["department"], {"department": "nowhere", "year": 2025}, "There is no department with the code 'nowhere'."),
    (["department"], {"department": "police"}, "Name the year with --year."),
    (["city"], {"year": 2025}, "Name the half-year with --half 1 or --half 2."),
    (["attestation"], {}, "Name the validation with --validation."),
    (["attestation"], {"validation": 999_999}, "There is no validation 999999."),
    (["attestation"], {"validation": 1, "format": "json"}, "An attestation is written as PDF only."),
])
def test_it_refuses_a_missing_or_unknown_choice_with_a_clear_message(city, tmp_path, args, options, message):
    output = tmp_path / "out"

    with pytest.raises(CommandError) as refused:
        render(*args, output=str(output), **options)

    assert str(refused.value) == message
    assert not output.exists()


@pytest.mark.parametrize(("argv", "message"), [
    (["department", "--department", "police", "--year", "2025"], "the following arguments are required: --output"),
    (["annual", "--output", "-"], "invalid choice: 'annual'"),
    (["city", "--year", "2025", "--half", "3", "--output", "-"], "invalid choice: 3"),
    (["city", "--year", "last", "--half", "1", "--output", "-"], "invalid int value: 'last'"),
])
def test_it_refuses_arguments_it_does_not_know(db, argv, message):
    with pytest.raises(CommandError) as refused:
        call_command("render_report", *argv)

    assert message in str(refused.value)


def test_a_render_that_takes_too_long_ends_the_command_with_the_reason(city, tmp_path, this_year):
    output = tmp_path / "slow.pdf"

    with pytest.raises(CommandError) as refused:
        render("department", department=city.police.code, year=this_year, seconds=0.000001, output=str(output))

    assert "longer than" in str(refused.value)
    assert not output.exists()
