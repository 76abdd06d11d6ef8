"""The public transparency page (2.4–2.6): the current policy and its change log, the published
public reports and their open data, and the daily anchors of the audit trail. No sign-in, read only,
and no personal data: nothing here names a person; the only free text shown is the policy written
by the Mayor's designee and the titles of the reports, and of the audit trail only an entry's number
and hash leave the portal. Small counts are already null in a public report's figures."""

import csv
import functools
import io
import json

from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.text import slugify
from django.views.decorators.http import require_safe

from portal.audit import audit_record
from portal.exports import csv_cell
from portal.models import AuditEvent
from portal.policy import current_policy_version, published_policy_versions
from portal.selectors import published_audit_anchors

from reports.metrics import shown_value
from reports.selectors import report_is_intact, sections

from .selectors import biometric_systems, public_feeds, public_reports, table_1

PUBLIC_MAX_AGE = 300
NULL_NOTE = ("A null value stands for a count of fewer than 5, left out so that no person can be singled out "
             "(Section 2.6), except in a row marked no_data, where there was nothing to measure.")
CSV_HEADER = ["report", "period_start", "period_end", "table", "label", "value"]
# Only these parts of a report's figures leave the portal, whatever else a table may carry.
TABLE_FIELDS = ("key", "title", "label_heading", "value_heading", "unit")
# The page shows the last month of anchors; the downloads carry them all.
ANCHORS_ON_PAGE = 31


def public_page(view):
    """Open to every visitor, GET and HEAD only. A shared cache may keep an anonymous visitor's copy
    for five minutes; a signed-in visitor's copy names them in the page header, so it stays private."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if request.user.is_authenticated:
            patch_cache_control(response, private=True)
        else:
            patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
        return response

    return require_safe(wrapped)


# A table of several columns (the effectiveness by intended use) is laid out again as a grid on the
# report's page; the open data keeps one row a cell, as every other table.
GRID_FIELDS = ("row", "row_label", "column")


def _public_tables(figures, *, grid: bool = False) -> list[dict]:
    return [
        {**{field: table.get(field) for field in TABLE_FIELDS},
         **({"columns": table["columns"]} if grid and table.get("columns") else {}),
         "rows": [{"label": row["label"], "value": row["value"], **({"no_data": True} if row.get("no_data") else {}),
                   **({field: row[field] for field in GRID_FIELDS if field in row} if grid else {})}
                  for row in table.get("rows", [])]}
        for table in figures or []
    ]


def _edition(reports, anchors) -> str:
    """What the downloads' links carry, so that a cached page never links to a cached download of an
    older edition: it changes with every publication and every new anchor."""
    newest = max((published.published_at for published in reports), default=None)
    parts = [str(len(reports)), newest.strftime("%Y%m%d%H%M%S") if newest else "0",
             str(anchors[0]["seq"]) if anchors else "0"]
    return "-".join(parts)


@public_page
def index(request):
    reports = list(public_reports())
    anchors = list(published_audit_anchors()[:ANCHORS_ON_PAGE])
    return render(request, "transparency/index.html", {
        "edition": _edition(reports, anchors),
        "current": current_policy_version(),
        "versions": published_policy_versions(),
        "intended_uses": table_1(),
        "public_feeds": public_feeds(),
        "biometric_systems": biometric_systems(),
        "reports": reports,
        "anchors": anchors,
    })


@public_page
def report(request, pk):
    published = get_object_or_404(public_reports(), pk=pk)
    # A published report never changes: the template keeps its tables and charts in the cache
    # (keyed by the report and its PDF's SHA-256) and calls this only when they are not there.
    return render(request, "transparency/report.html", {
        "report": published,
        "sections": functools.partial(sections, _public_tables(published.figures, grid=True), public=True),
    })


@public_page
def report_pdf(request, pk):
    published = get_object_or_404(public_reports(), pk=pk)
    if not report_is_intact(published):
        audit_record(actor=request.user, action="report.integrity_failed", target=published,
                     outcome=AuditEvent.Outcome.DENIED, detail=f"report {published.pk}: stored PDF does not match "
                                                               f"SHA-256 {published.pdf_sha256}")
        return render(request, "transparency/integrity_failed.html", {"report": published}, status=404)
    filename = f"{slugify(published.title) or f'report-{published.pk}'}.pdf"
    return FileResponse(published.pdf.open("rb"), as_attachment=True, filename=filename,
                        content_type="application/pdf")


def _attachment(response, filename: str):
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@public_page
def open_data_csv(request):
    """Every row of every table of every public report (S2.6); "fewer than 5" where a count is left out."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    for published in public_reports():
        for table in _public_tables(published.figures):
            for row in table["rows"]:
                value = shown_value(row, public=True) if row["value"] is None else row["value"]
                writer.writerow([csv_cell(cell) for cell in (
                    published.title, published.period_start.isoformat(), published.period_end.isoformat(),
                    table["title"], row["label"], value,
                )])
    return _attachment(HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8"), "open-data.csv")


@public_page
def open_data_json(request):
    """The same figures as JSON (S2.6), null kept for a count left out."""
    current = current_policy_version()
    data = {
        "policy_version": current.number if current else None,
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "note": NULL_NOTE,
        "reports": [
            {"title": published.title, "period_start": published.period_start.isoformat(),
             "period_end": published.period_end.isoformat(), "pdf_sha256": published.pdf_sha256,
             "tables": _public_tables(published.figures)}
            for published in public_reports()
        ],
        "audit_anchors": [
            {"day": anchor["day"].isoformat(), "seq": anchor["seq"], "hash": anchor["hash"]}
            for anchor in published_audit_anchors()
        ],
    }
    body = json.dumps(data, indent=2, ensure_ascii=False)
    return _attachment(HttpResponse(body, content_type="application/json"), "open-data.json")


@public_page
def audit_anchors_csv(request):
    """Every day's anchor of the audit trail: the day, the number of its last entry and that entry's hash."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["day", "seq", "hash"])
    for anchor in published_audit_anchors():
        writer.writerow([anchor["day"].isoformat(), anchor["seq"], anchor["hash"]])
    return _attachment(HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8"), "audit-anchors.csv")
