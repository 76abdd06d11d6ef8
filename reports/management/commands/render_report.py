"""Write a report or an attestation to a file, for scripts and cron.

    manage.py render_report department --department police --year 2025 --output police-2025.pdf
    manage.py render_report city --year 2026 --half 1 --output city-2026-h1.pdf
    manage.py render_report city --year 2026 --half 1 --format json --output -
    manage.py render_report attestation --validation 12 --output attestation-12.pdf

It renders the figures as they are now; publishing a report (freezing it) is a decision taken on the
Reports page by the department's head or the Mayor's designee."""

import json
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Department
from audits.documents import attestation_document
from reports.metrics import Period
from audits.models import Validation
from reports.models import PublishedReport
from reports.services import report_document
from reports.selectors import report_tables
from portal.errors import RuleViolation

Kind = PublishedReport.Kind


class Command(BaseCommand):
    help = "Write a department's annual report, the citywide report or a validation attestation to a file."

    def add_arguments(self, parser):
        parser.add_argument("report", choices=["department", "city", "attestation"])
        parser.add_argument("--department", help="The department's code (department report).")
        parser.add_argument("--year", type=int, help="The calendar year (department report) or the half-year's year.")
        parser.add_argument("--half", type=int, choices=[1, 2], help="1: January–June, 2: July–December (city report).")
        parser.add_argument("--validation", type=int, help="The validation's number (attestation).")
        parser.add_argument("--format", choices=["pdf", "json"], default="pdf",
                            help="pdf (default), or json: the report's tables.")
        parser.add_argument("--output", required=True, help="The file to write, or - for standard output.")
        parser.add_argument("--seconds", type=float, help="Stop a PDF render after this long (default: the setting).")

    def handle(self, *args, report, output, **options):
        try:
            content = self._render(report, **options)
        except RuleViolation as error:
            raise CommandError(str(error)) from error
        if output == "-":
            sys.stdout.buffer.write(content)
            sys.stdout.buffer.flush()
            return
        with open(output, "wb") as handle:
            handle.write(content)
        self.stderr.write(f"Wrote {len(content):,} bytes to {output}.")

    def _render(self, report, *, department, year, half, validation, format, seconds, **options) -> bytes:
        if report == "attestation":
            if validation is None:
                raise CommandError("Name the validation with --validation.")
            if format != "pdf":
                raise CommandError("An attestation is written as PDF only.")
            try:
                review = Validation.objects.select_related("department__head", "system", "signed_off_by").get(
                    pk=validation)
            except Validation.DoesNotExist:
                raise CommandError(f"There is no validation {validation}.") from None
            # Nobody waits on a request here: the worker's limit, as for the attestations the worker makes.
            return attestation_document(validation=review,
                                        seconds=seconds or settings.PDF_WORKER_RENDER_SECONDS).content
        if year is None:
            raise CommandError("Name the year with --year.")
        if report == "city":
            if half is None:
                raise CommandError("Name the half-year with --half 1 or --half 2.")
            kind, unit, period = Kind.CITY_BIANNUAL, None, Period.half(year, half)
        else:
            if not department:
                raise CommandError("Name the department's code with --department.")
            unit = Department.objects.filter(code=department).first()
            if unit is None:
                raise CommandError(f"There is no department with the code {department!r}.")
            kind, period = Kind.DEPARTMENT_ANNUAL, Period.year(year)
        tables = report_tables(kind=kind, department=unit, period=period)
        if format == "json":
            return json.dumps({"period_start": period.start.isoformat(), "period_end": period.end.isoformat(),
                               "tables": tables}, indent=2).encode() + b"\n"
        return report_document(kind=kind, department=unit, period=period, tables=tables, seconds=seconds).content
