"""The reports of Section 2.5: a department's annual report to the Mayor and the biannual citywide
report for the public. Who may see, prepare and publish them, and the one function that publishes.

A report is read live (its figures computed from the records now) until it is published; publishing
freezes it: the PDF, its SHA-256 and its tables are stored and never change afterwards."""

from datetime import date

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import DESIGNEE_GROUP, Department, User
from accounts.selectors import emails_of
from kpis.selectors import report_gaps
from kpis.services import figures_freeze
from portal.audit import audit_record, audit_refusal, service_transaction
from portal.emails import email_send
from portal.errors import NotAllowed, RuleViolation
from portal.pdf import Document, render_document

from .metrics import Period
from .models import BoardHandover, PublishedReport, ReportReminder
from .selectors import ReportDue, report_is_intact, report_tables, reports_due, sections


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
    public transparency page. The annual report states from the KPIs whether the department's use of
    each system is having a positive impact (S2.5d): it is refused while a KPI due has no figure or a
    system and use no verdict, and publishing it freezes those figures and verdicts."""
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
    if kind == Kind.DEPARTMENT_ANNUAL:
        gaps = report_gaps(department=department, year=period.start.year)
        if gaps:
            audit_refusal(actor=by, action="report.publish", target=department, outcome="refused",
                          detail=f"{period.label}: {len(gaps)} KPI figures or impact statements missing")
            raise RuleViolation(f"The annual report for {period.label} cannot be submitted yet: it must state, from "
                                "the KPIs, whether the use of each system is having a positive impact. "
                                + " ".join(gaps))
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
        # The figures and statements the report was made from stay as they were submitted.
        figures_freeze(department=department, year=period.start.year, by=by)
        designees = User.objects.filter(groups__name=DESIGNEE_GROUP, is_active=True).values_list("email", flat=True)
        email_send("report-submitted", to=list(designees), context={"report": report})
    return report


# --- Reminders of the reports due (2.5) -------------------------------------------------------------

# Days before the due date a reminder goes; after it, one a week while the report is overdue.
REMINDER_DAYS_BEFORE = (30, 7, 0)


def reminder_stage(due: ReportDue) -> str | None:
    """The reminder a report due has reached today: the closest of 30 and 7 days before and the due
    date, then one for each full week overdue. A missed day sends the latest only, not a pile."""
    if due.days_left >= 0:
        reached = [days for days in REMINDER_DAYS_BEFORE if days >= due.days_left]
        if not reached:
            return None
        return "due" if min(reached) == 0 else f"before-{min(reached)}"
    weeks = due.days_late // 7
    return f"late-{weeks}" if weeks else "due"


def reminders_send(*, today: date | None = None) -> int:
    """Mail the head (a department's annual report) or the Mayor's designees (the citywide report)
    of each report due that reached a reminder (S2.5b, S2.5c). Each is recorded as a ReportReminder
    with its mail, in one transaction: a second run the same day finds it and sends nothing.
    Returns how many mails were written."""
    today = today or timezone.localdate()
    Kind = PublishedReport.Kind
    due = [(row, reminder_stage(row)) for row in reports_due(today=today)]
    due = [(row, stage) for row, stage in due if stage]
    if not due:
        return 0
    done = ReportReminder.objects.filter(period_start__in={row.period.start for row, _ in due})
    staged = set(done.values_list("kind", "department_id", "period_start", "stage"))
    sent_today = set(done.filter(sent_on=today).values_list("kind", "department_id", "period_start"))
    designees = None
    sent = 0
    for row, stage in due:
        key = (row.kind, row.department.pk if row.department else None, row.period.start)
        if (*key, stage) in staged or key in sent_today:
            continue
        if row.kind == Kind.CITY_BIANNUAL:
            designees = emails_of(DESIGNEE_GROUP) if designees is None else designees
            to = designees
        else:
            head = row.department.head
            to = [head.email] if head and head.is_active else []
        if not to:
            continue  # nobody to tell yet: a later run tells the head once there is one
        try:
            with transaction.atomic():
                ReportReminder.objects.create(kind=row.kind, department=row.department, period_start=row.period.start,
                                              stage=stage, sent_on=today)
                email_send("report-due", to=to, context={"due": row, "stage": stage})
        except IntegrityError:
            continue  # another run recorded it first, with its mail
        sent += 1
    return sent


# --- Handing a report to the Board of Aldermen (S2.5d) ---------------------------------------------

def may_hand_to_board(user: User) -> bool:
    """The Mayor provides the reports to the Board of Aldermen at its request: through the designee."""
    return user.roles.is_designee


@service_transaction
def report_hand_to_board(*, report: PublishedReport, requested_on: date | None, request_reference: str, by: User,
                         note: str = "") -> BoardHandover:
    """Give a published report to the Board of Aldermen at its request (S2.5d). With the Board's address
    (BOARD_OF_ALDERMEN_EMAIL) the PDF is mailed there once this commits; without it the handover is
    recorded as made by other means."""
    if not may_hand_to_board(by):
        audit_refusal(actor=by, action="report.hand_to_board", target=report)
        raise NotAllowed("Only the Mayor's designee hands a report to the Board of Aldermen.")
    reference = (request_reference or "").strip()
    if requested_on is None or not reference:
        raise RuleViolation("Enter the day the Board of Aldermen asked for the report and its request "
                            "(for example “Letter of 3 March 2027”).")
    if requested_on > timezone.localdate():
        raise RuleViolation("The day the Board of Aldermen asked cannot be in the future.")
    if not report_is_intact(report):
        audit_refusal(actor=by, action="report.hand_to_board", target=report, outcome="refused",
                      detail=f"stored PDF does not match SHA-256 {report.pdf_sha256}")
        raise RuleViolation("The stored PDF of this report does not match its fingerprint, so it was not handed "
                            "over. ITSA has been told through the audit log.")
    address = settings.BOARD_OF_ALDERMEN_EMAIL
    handover = BoardHandover.objects.create(
        report=report, requested_on=requested_on, request_reference=reference, handed_by=by,
        handed_at=timezone.now(), sent_to=address, note=(note or "").strip(),
    )
    audit_record(actor=by, action="report.hand_to_board", target=report,
                 detail=f"at the Board's request of {requested_on:%Y-%m-%d} ({reference}); "
                        + (f"PDF mailed to {address}" if address else
                           "BOARD_OF_ALDERMEN_EMAIL is not set: handed over by other means"))
    if address:
        with report.pdf.open("rb") as handle:
            content = handle.read()
        email_send("report-to-board", to=[address], context={"report": report, "handover": handover},
                   attachments=[(f"{slugify(report.title) or f'report-{report.pk}'}.pdf", content,
                                 "application/pdf")])
    return handover
