"""The report pages (2.5): read a report live, publish it, and download what was published.
Thin: who may see and publish is asked of reports.selectors and reports.services."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Department
from accounts.selectors import get_or_404_logged
from portal.audit import audit_record
from portal.errors import RuleViolation
from portal.pages import form_error_message

from . import selectors, services
from .forms import HandToBoardForm
from .metrics import Period
from .models import PublishedReport

Kind = PublishedReport.Kind
FIRST_YEAR = 2000


def _year(year: int) -> int:
    if not FIRST_YEAR <= year <= timezone.localdate().year:
        raise Http404("No report for that year.")
    return year


def _department_for(user, pk) -> Department:
    department = get_object_or_404(Department, pk=pk)
    if not selectors.may_read_department_report(department=department, user=user):
        audit_record(actor=user, action="report.view", target=department, outcome="denied")
        raise Http404("No such report.")
    return department


def _city_reader(user) -> None:
    if not selectors.may_read_city_report(user=user):
        audit_record(actor=user, action="report.view", target="citywide report", outcome="denied")
        raise Http404("No such report.")


def _period(kind: str, year: int, half: int | None) -> Period:
    if kind == Kind.CITY_BIANNUAL:
        if half not in (1, 2):
            raise Http404("A half-year is 1 or 2.")
        return Period.half(_year(year), half)
    return Period.year(_year(year))


@login_required
@require_GET
def report_list(request):
    user = request.user
    if "department" in request.GET and "year" in request.GET:
        try:
            return redirect("reports:department", int(request.GET["department"]), int(request.GET["year"]))
        except ValueError:
            messages.error(request, "Choose a department and a year from the lists.")
    roles = user.roles
    today = timezone.localdate()
    # Both lists grow with the years and the departments: a page of each at a time.
    published = Paginator(
        selectors.reports_visible_to(user).select_related("department", "published_by"), settings.PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    departments = (Department.objects.order_by("name") if roles.reads_every_department or roles.is_designee
                   else roles.headed_departments)
    last_half = (today.year, 1) if today.month > 6 else (today.year - 1, 2)
    return render(request, "reports/list.html", {
        "published": published, "departments": departments, "last_year": today.year - 1,
        "years": list(range(today.year, max(FIRST_YEAR, today.year - 5) - 1, -1)),
        "last_half": last_half, "reads_city": selectors.may_read_city_report(user=user),
        "due": Paginator(selectors.reports_due_for(user, today=today), settings.PAGE_SIZE).get_page(
            request.GET.get("due_page")),
        "shows_due": roles.reads_every_department or roles.is_designee or roles.is_head,
    })


def _report_page(request, *, kind, department, period):
    published = (PublishedReport.objects.filter(kind=kind, department=department, period_start=period.start)
                 .values_list("pk", flat=True).first())
    if published:
        return redirect("reports:detail", published)
    tables, gaps = selectors.report_tables_and_gaps(kind=kind, department=department, period=period)
    public = kind == Kind.CITY_BIANNUAL
    may_publish = services.may_publish(kind=kind, department=department, user=request.user)
    return render(request, "reports/report.html", {
        "title": services.report_title(kind=kind, department=department, period=period),
        "kind": kind, "public": public, "department": department, "period": period, "report": None,
        "sections": selectors.sections(tables, public=public),
        "may_publish": may_publish and period.end < timezone.localdate(),
        "gaps": gaps,
        "period_open": period.end >= timezone.localdate(),
        "publish_url": (reverse("reports:city_publish", args=[period.start.year, 1 if period.start.month == 1 else 2])
                        if public else reverse("reports:department_publish", args=[department.pk, period.start.year])),
    })


@login_required
@require_GET
def department_report(request, department_pk, year):
    department = _department_for(request.user, department_pk)
    return _report_page(request, kind=Kind.DEPARTMENT_ANNUAL, department=department,
                        period=_period(Kind.DEPARTMENT_ANNUAL, year, None))


@login_required
@require_GET
def city_report(request, year, half):
    _city_reader(request.user)
    return _report_page(request, kind=Kind.CITY_BIANNUAL, department=None, period=_period(Kind.CITY_BIANNUAL, year, half))


def _publish(request, *, kind, department, period, back):
    try:
        report = services.report_publish(kind=kind, department=department, period=period, by=request.user)
    except RuleViolation as error:
        messages.error(request, str(error))
        return redirect(back)
    messages.success(request, f"“{report.title}” is published. Its PDF and figures are kept as they are now.")
    return redirect("reports:detail", report.pk)


@login_required
@require_POST
def department_publish(request, department_pk, year):
    department = _department_for(request.user, department_pk)
    period = _period(Kind.DEPARTMENT_ANNUAL, year, None)
    return _publish(request, kind=Kind.DEPARTMENT_ANNUAL, department=department, period=period,
                    back=reverse("reports:department", args=[department.pk, year]))


@login_required
@require_POST
def city_publish(request, year, half):
    _city_reader(request.user)
    period = _period(Kind.CITY_BIANNUAL, year, half)
    return _publish(request, kind=Kind.CITY_BIANNUAL, department=None, period=period,
                    back=reverse("reports:city", args=[year, half]))


def _published_for(user, pk) -> PublishedReport:
    queryset = selectors.reports_visible_to(user).select_related("department", "published_by")
    return get_or_404_logged(queryset, user=user, pk=pk, what="report")


@login_required
@require_GET
def report_detail(request, pk):
    report = _published_for(request.user, pk)
    public = report.kind == Kind.CITY_BIANNUAL
    period = Period(report.period_start, report.period_end)
    return render(request, "reports/report.html", {
        "title": report.title, "kind": report.kind, "public": public, "department": report.department,
        "period": period, "report": report, "sections": selectors.sections(report.figures, public=public),
        "handovers": report.handovers.select_related("handed_by"),
        "board_form": HandToBoardForm() if services.may_hand_to_board(request.user) else None,
        "board_address": settings.BOARD_OF_ALDERMEN_EMAIL,
    })


@login_required
@require_POST
def hand_to_board(request, pk):
    """The designee records that the report went to the Board of Aldermen at its request (S2.5d)."""
    report = _published_for(request.user, pk)
    form = HandToBoardForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"The report was not handed to the Board. {form_error_message(form)}")
        return redirect("reports:detail", report.pk)
    data = form.cleaned_data
    try:
        handover = services.report_hand_to_board(report=report, requested_on=data["requested_on"],
                                                 request_reference=data["request_reference"], note=data["note"],
                                                 by=request.user)
    except RuleViolation as error:
        messages.error(request, str(error))
        return redirect("reports:detail", report.pk)
    if handover.sent_to:
        messages.success(request, f"The report is mailed with its PDF to the Board of Aldermen ({handover.sent_to}).")
    else:
        messages.success(request, "The handover is recorded as made by other means: the portal has no address for "
                                  "the Board of Aldermen, so it sent nothing.")
    return redirect("reports:detail", report.pk)


@login_required
@require_GET
def report_pdf(request, pk):
    report = _published_for(request.user, pk)
    if not selectors.report_is_intact(report):
        audit_record(actor=request.user, action="report.integrity_failed", target=report, outcome="denied",
                     detail=f"stored PDF does not match SHA-256 {report.pdf_sha256}")
        messages.error(request, "The stored PDF of this report does not match its fingerprint, so it was not sent. "
                                "ITSA has been told through the audit log.")
        return redirect("reports:detail", report.pk)
    audit_record(actor=request.user, action="report.download", target=report)
    with report.pdf.open("rb") as handle:
        response = HttpResponse(handle.read(), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, f"{slugify(report.title)}.pdf")
    return response
