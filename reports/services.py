"""The reports of Section 2.5: a department's annual report to the Mayor and the biannual citywide
report for the public. Who may see, prepare and publish them, and the one function that publishes.

A report is read live (its figures computed from the records now) until it is published; publishing
freezes it: the PDF, its SHA-256 and its tables are stored and never change afterwards."""


from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.models import DESIGNEE_GROUP, Department, User
from portal.audit import audit_record, audit_refusal, service_transaction
from portal.emails import email_send
from portal.errors import NotAllowed, RuleViolation
from portal.pdf import Document, render_document

from .metrics import Period
from .models import PublishedReport
from .selectors import report_tables, sections


Kind = PublishedReport.Kind


def may_publish(*, kind: str, department: Department | None, user: User) -> bool:
    """The head submits the department's annual report to the Mayor (2.5); the Mayor's designee
    compiles and publishes the biannual citywide report."""
    if kind == Kind.CITY_BIANNUAL:
        return user.roles.is_designee
    return department is not None and department in user.roles.headed_departments


def report_title(*, kind: str, department: Department | None, period: Period) -> str:
    if kind == Kind.CITY_BIANNUAL:
        return f"Citywide report on surveillance technology, {period.label}"
    return f"Annual report of {department.name} on surveillance technology, {period.label}"


def report_document(*, kind: str, department: Department | None, period: Period, tables: list[dict],
                    seconds: float | None = None) -> Document:
    public = kind == Kind.CITY_BIANNUAL
    return render_document("pdf/report.html", {
        "title": report_title(kind=kind, department=department, period=period),
        "kind": kind, "public": public, "department": department, "period": period,
        "sections": sections(tables, public=public), "generated_at": timezone.now(),
    }, seconds=seconds)


def _check_period(kind: str, period: Period) -> None:
    expected = (Period.half(period.start.year, 1 if period.start.month == 1 else 2)
                if kind == Kind.CITY_BIANNUAL else Period.year(period.start.year))
    if period != expected:
        raise RuleViolation("A department's report covers a calendar year; the citywide report covers a half-year.")
    if period.end >= timezone.localdate():
        raise RuleViolation(f"{period.label} is not over yet: a report is published once its period has ended.")


@service_transaction
def report_publish(*, kind: str, period: Period, by: User, department: Department | None = None) -> PublishedReport:
    """Freeze a report: its figures, its PDF and the PDF's SHA-256, stored once (S2.5b, S2.5c).

    The department's annual report goes to the Mayor's designees; the citywide report appears on the
    public transparency page."""
    if kind not in Kind.values:
        raise RuleViolation("Choose the annual department report or the biannual citywide report.")
    if kind == Kind.CITY_BIANNUAL:
        department = None
    elif department is None:
        raise RuleViolation("Choose the department whose annual report this is.")
    if not may_publish(kind=kind, department=department, user=by):
        audit_refusal(actor=by, action="report.publish", target=department or "citywide report")
        raise NotAllowed("Only the department's head submits its annual report, and only the Mayor's designee "
                         "publishes the citywide report.")
    _check_period(kind, period)
    existing = PublishedReport.objects.filter(kind=kind, department=department, period_start=period.start).first()
    if existing:
        raise RuleViolation(f"“{existing.title}” was already published on "
                            f"{timezone.localtime(existing.published_at):%B %-d, %Y}. Published reports do not change.")
    tables = report_tables(kind=kind, department=department, period=period)
    document = report_document(kind=kind, department=department, period=period, tables=tables)
    report = PublishedReport(
        kind=kind, department=department, period_start=period.start, period_end=period.end,
        title=report_title(kind=kind, department=department, period=period), figures=tables,
        pdf_sha256=document.sha256, is_public=kind == Kind.CITY_BIANNUAL, published_by=by,
        published_at=timezone.now(),
    )
    report.pdf.save("report.pdf", ContentFile(document.content), save=False)
    report.save()
    audit_record(actor=by, action="report.publish", target=report, detail=f"SHA-256 {document.sha256}")
    if kind == Kind.DEPARTMENT_ANNUAL:
        designees = User.objects.filter(groups__name=DESIGNEE_GROUP, is_active=True).values_list("email", flat=True)
        email_send("report-submitted", to=list(designees), context={"report": report})
    return report
