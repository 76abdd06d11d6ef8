"""The KPI pages (Section 2.5). Thin: a selector to find what the user may see, a form for the shape
of the input, one service call, a message and a redirect. Every rule lives in kpis.services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Department, SurveillanceSystem
from accounts.selectors import get_or_404_logged
from portal.audit import audit_record
from portal.errors import RuleViolation
from portal.forms import DecisionForm
from portal.history import timeline
from portal.models import IntendedUse
from portal.pages import carry_out, decide_view, form_error_message
from security.decorators import password_recently_entered

from . import selectors, services
from .forms import KPI_DECISIONS, FigureForm, ImpactForm, KpiProposeForm, RetireForm, WithdrawForm
from .models import Kpi, KpiFigure


def _get_kpi_for(user, pk) -> Kpi:
    queryset = selectors.kpis_visible_to(user).select_related(
        "department__head", "system", "intended_use", "requested_by", "decided_by")
    return get_or_404_logged(queryset, user=user, pk=pk, what="kpi")


@login_required
@require_GET
def kpi_list(request):
    status = request.GET.get("status", "")
    if status not in Kpi.Status.values:
        status = ""
    kpis = selectors.kpis_visible_to(request.user).select_related("department", "system", "intended_use")
    if status:
        kpis = kpis.filter(status=status)
    kpis = list(kpis.order_by("department__name", "system__name", "intended_use__position", "intended_use__name",
                              "name", "pk"))
    latest = selectors.latest_figures(kpis)
    for kpi in kpis:
        kpi.latest = latest.get(kpi.pk)
        kpi.latest_met = kpi.is_met_by(kpi.latest.value) if kpi.latest else None
    return render(request, "kpis/list.html", {
        "kpis": kpis, "status": status, "statuses": Kpi.Status.choices,
        "may_propose": bool(selectors.departments_for_kpis(request.user)),
    })


@login_required
@require_http_methods(["GET", "POST"])
def kpi_new(request):
    user = request.user
    departments = selectors.departments_for_kpis(user)
    if not departments:
        audit_record(actor=user, action="kpi.new", target="kpi", outcome="denied")
        raise Http404("Only a department's head or authorized requester proposes its KPIs.")
    authorized = selectors.authorized_uses(departments)
    if request.method == "POST":
        form = KpiProposeForm(request.POST, authorized=authorized)
        if form.is_valid():
            department, system, use = form.chosen()
            data = form.cleaned_data
            try:
                kpi = services.kpi_propose(
                    department=department, system=system, intended_use=use, name=data["name"],
                    measure=data["measure"], unit=data["unit"], direction=data["direction"], target=data["target"],
                    by=user,
                )
            except RuleViolation as refusal:
                form.add_error(form.error_field(refusal.field), refusal.message)
            else:
                messages.success(request, "The KPI is proposed. The Mayor's designee has been told.")
                return redirect(kpi)
    else:
        form = KpiProposeForm(authorized=authorized)
    return render(request, "kpis/new.html", {"form": form, "authorized": authorized})


@login_required
@require_GET
def kpi_detail(request, pk):
    user = request.user
    kpi = _get_kpi_for(user, pk)
    figures = list(kpi.figures.select_related("recorded_by").order_by("-year"))
    for figure in figures:
        figure.met = kpi.is_met_by(figure.value)
    can_record = services.may_record_figure(kpi=kpi, user=user)
    this_year = timezone.localdate().year
    return render(request, "kpis/detail.html", {
        "kpi": kpi,
        "figures": figures,
        "decide_form": DecisionForm(choices=KPI_DECISIONS) if services.may_decide_kpi(kpi=kpi, user=user) else None,
        "figure_form": FigureForm(initial={"year": this_year - 1}) if can_record else None,
        "withdraw_form": WithdrawForm() if services.may_withdraw_kpi(kpi=kpi, user=user) else None,
        "retire_form": RetireForm() if services.may_retire_kpi(kpi=kpi, user=user) else None,
        "impact_years": sorted({figure.year for figure in figures}, reverse=True),
        "timeline": timeline(kpi),
    })


def _decided(kpi, approve):
    return lambda after: f"The KPI is {after.get_status_display().lower()}. The person who proposed it has been told."


kpi_decide = login_required(require_POST(password_recently_entered(decide_view(
    get=_get_kpi_for, choices=KPI_DECISIONS,
    decide=lambda kpi, approve, **decision: services.kpi_decide(kpi=kpi, approve=approve, **decision),
    done=_decided,
))))


@login_required
@require_POST
def kpi_withdraw(request, pk):
    user = request.user
    kpi = _get_kpi_for(user, pk)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"The KPI was not withdrawn. {form_error_message(form)}")
        return redirect(kpi)
    return carry_out(request, kpi,
                     lambda: services.kpi_withdraw(kpi=kpi, by=user, reason=form.cleaned_data["reason"]),
                     done="The KPI is withdrawn.")


@login_required
@require_POST
def kpi_retire(request, pk):
    user = request.user
    kpi = _get_kpi_for(user, pk)
    form = RetireForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write the reason for retiring the KPI.")
        return redirect(kpi)
    return carry_out(request, kpi, lambda: services.kpi_retire(kpi=kpi, by=user, reason=form.cleaned_data["reason"]),
                     done="The KPI is retired: it asks no figure for the years after this one.")


@login_required
@require_POST
def kpi_figure(request, pk):
    user = request.user
    kpi = _get_kpi_for(user, pk)
    form = FigureForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"The figure was not recorded. {form_error_message(form)}")
        return redirect(kpi)
    data = form.cleaned_data
    try:
        figure = services.figure_record(kpi=kpi, year=data["year"], value=data["value"], note=data["note"], by=user)
    except RuleViolation as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, f"The {figure.year} figure is recorded: {figure.value} {kpi.unit}.")
    return redirect(kpi)


def _impact_subject(request, *, department, system, use, year):
    """The department, system and use of an impact page, when the user sees KPIs of them; else 404."""
    today = timezone.localdate()
    if not services.FIRST_YEAR <= year <= today.year:
        raise Http404("No such year.")
    kpis = selectors.kpis_visible_to(request.user).filter(department=department, system=system, intended_use=use)
    if not kpis.exists():
        if Kpi.objects.filter(department=department, system=system, intended_use=use).exists():
            audit_record(actor=request.user, action="kpi.view", target=f"impact {department}/{system}/{use}/{year}",
                         outcome="denied")
        raise Http404("No KPI here.")
    return (Department.objects.get(pk=department), SurveillanceSystem.objects.get(pk=system),
            IntendedUse.objects.get(pk=use))


@login_required
@require_http_methods(["GET", "POST"])
def kpi_impact(request, department, system, use, year):
    user = request.user
    department, system, use = _impact_subject(request, department=department, system=system, use=use, year=year)
    statement = selectors.impact_statement(department=department, system=system, intended_use=use, year=year)
    may_state = services.heads(user, department) and not (statement and statement.frozen_at)
    form = None
    if request.method == "POST":
        form = ImpactForm(request.POST)
        if form.is_valid():
            try:
                services.impact_state(department=department, system=system, intended_use=use, year=year,
                                      verdict=form.cleaned_data["verdict"],
                                      explanation=form.cleaned_data["explanation"], by=user)
            except RuleViolation as refusal:
                form.add_error(form.error_field(refusal.field), refusal.message)
            else:
                messages.success(request, f"The statement for {year} is recorded.")
                return redirect(reverse("kpis:impact", args=[department.pk, system.pk, use.pk, year]))
    elif may_state:
        form = ImpactForm(initial={"verdict": statement.verdict, "explanation": statement.explanation}
                          if statement else None)
    due = selectors.kpis_due(department=department, year=year).filter(system=system, intended_use=use).order_by(
        "name", "pk")
    figures = {figure.kpi_id: figure for figure in
               KpiFigure.objects.filter(kpi__in=due, year=year)}
    rows = [(kpi, figures.get(kpi.pk), kpi.is_met_by(figures[kpi.pk].value) if kpi.pk in figures else None)
            for kpi in due]
    return render(request, "kpis/impact.html", {
        "department": department, "system": system, "use": use, "year": year, "rows": rows,
        "statement": statement, "form": form, "missing": [kpi for kpi, figure, _ in rows if figure is None],
    })
