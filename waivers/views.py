"""The waiver pages (Section 5.1). Thin: a selector to find what the user may see, a form for the
shape of the input, one service call, a message and a redirect. Every rule lives in waivers.services."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.selectors import get_or_404_logged, grants_visible_to
from portal.audit import audit_record
from portal.errors import RuleViolation
from portal.forms import DecisionForm
from portal.history import timeline
from portal.pages import carry_out, decide_view, form_error_message
from portal.pickers import find_requested, matches_response, show_matches
from security.decorators import password_recently_entered

from . import selectors, services
from .models import Waiver
from .forms import (
    WAIVER_DECISIONS, WaiverDepartmentForm, WaiverMayorForm, WaiverRequestForm, WaiverRevokeForm,
)


def _get_waiver_for(user, pk) -> Waiver:
    queryset = selectors.waivers_visible_to(user).select_related(
        "department__head", "intended_use", "permissible_use__intended_use", "requested_by", "decided_by",
        "mayor_recorded_by", "ended_by",
    )
    return get_or_404_logged(queryset, user=user, pk=pk, what="waiver")


@login_required
@require_GET
def waiver_list(request):
    status = request.GET.get("status", "")
    if status not in Waiver.Status.values:
        status = ""
    waivers = selectors.waivers_visible_to(request.user).select_related(
        "department", "intended_use", "requested_by", "decided_by")
    if status:
        waivers = waivers.filter(status=status)
    today = timezone.localdate()
    page_obj = Paginator(selectors.waivers_in_force_first(waivers, today=today), settings.PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "waivers/list.html", {
        "page_obj": page_obj, "status": status, "statuses": Waiver.Status.choices, "today": today,
        "query_string": urlencode({"status": status}) if status else "",
        "may_request": services.may_request_waiver(request.user),
    })


@login_required
@require_http_methods(["GET", "POST"])
def waiver_new(request):
    user = request.user
    departments = selectors.departments_for_waivers(user)
    if not departments:
        audit_record(actor=user, action="waiver.new", target="waiver", outcome="denied")
        raise Http404("Only a department head or a director asks for a waiver.")
    source = request.POST if request.method == "POST" else request.GET
    department = departments[0] if len(departments) == 1 else next(
        (d for d in departments if str(d.pk) == source.get("department", "")), None)
    if request.method == "GET" and (found := matches_response(
            request, WaiverRequestForm(request.GET, departments=departments, department=department))):
        return found

    if request.method == "POST":
        form = WaiverRequestForm(request.POST, departments=departments, department=department)
        if name := find_requested(form, request.POST):
            show_matches(form, name)
        elif form.is_valid():
            data = form.cleaned_data
            try:
                waiver = services.waiver_request(
                    department=data["department"], intended_use=data["intended_use"],
                    permissible_use=data["permissible_use"], deviation=data["deviation"], basis=data["basis"],
                    justification=data["justification"], grants=data["grants"], starts_on=data["starts_on"],
                    days=data["days"], by=user,
                )
            except RuleViolation as refusal:
                form.add_error(form.error_field(refusal.field), refusal.message)
            else:
                chained = services.waiver_chain_sentence(waiver)
                messages.success(request, f"Waiver {waiver.pk} is asked for. The directors have been told."
                                          f"{' ' + chained if chained else ''}")
                return redirect(waiver)
        return render(request, "waivers/new.html", {"form": form, "department": department,
                                                            "several_departments": len(departments) > 1})

    if department is None:
        return render(request, "waivers/new.html", {
            "choose_form": WaiverDepartmentForm(departments=departments), "several_departments": True})
    form = WaiverRequestForm(departments=departments, department=department,
                             initial={"starts_on": timezone.localdate()})
    return render(request, "waivers/new.html", {"form": form, "department": department,
                                                        "several_departments": len(departments) > 1})


@login_required
@require_GET
def waiver_detail(request, pk):
    user = request.user
    waiver = _get_waiver_for(user, pk)
    grants = list(waiver.grants.select_related("person", "system").order_by("person__full_name", "system__name"))
    can_decide = services.may_decide_waiver(waiver=waiver, user=user)
    can_record_mayor = services.may_record_mayor_decision(waiver=waiver, user=user)
    can_revoke = services.may_revoke_waiver(waiver=waiver, user=user)
    return render(request, "waivers/detail.html", {
        "waiver": waiver,
        "in_force": waiver.is_in_force(),
        "needs_mayor": services.waiver_needs_mayor(waiver),
        "chain_sentence": services.waiver_chain_sentence(waiver),
        "grants": grants,
        "visible_grant_ids": set(grants_visible_to(user).filter(pk__in=[g.pk for g in grants])
                                 .values_list("pk", flat=True)),
        "decide_form": DecisionForm(choices=WAIVER_DECISIONS) if can_decide else None,
        "mayor_form": WaiverMayorForm(initial={"decided_on": timezone.localdate()}) if can_record_mayor else None,
        "revoke_form": WaiverRevokeForm() if can_revoke else None,
        "timeline": timeline(waiver),
    })


def _decided(waiver, approve):
    def message(after):
        if after.status == Waiver.Status.AWAITING_MAYOR:
            chained = services.waiver_chain_sentence(after)
            if chained:
                return f"You approved the waiver; it now waits for the Mayor's approval. {chained}"
            return "You approved the waiver. It lasts more than 30 days: it now waits for the Mayor's approval."
        return f"The waiver is {after.get_status_display().lower()}."
    return message


waiver_decide = login_required(require_POST(password_recently_entered(decide_view(
    get=_get_waiver_for, choices=WAIVER_DECISIONS,
    decide=lambda waiver, approve, **decision: services.waiver_decide(waiver=waiver, grant=approve, **decision),
    done=_decided,
))))


@login_required
@require_POST
@password_recently_entered
def waiver_mayor(request, pk):
    user = request.user
    waiver = _get_waiver_for(user, pk)
    form = WaiverMayorForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"The Mayor's decision was not recorded. {form_error_message(form)}")
        return redirect(waiver)
    data = form.cleaned_data
    approved = data["decision"] == "approve"
    return carry_out(
        request, waiver,
        lambda: services.waiver_record_mayor_decision(waiver=waiver, approved=approved, decided_on=data["decided_on"],
                                                      note=data["note"], by=user),
        done=lambda after: f"The Mayor's {'approval' if approved else 'refusal'} is recorded: the waiver is "
                           f"{after.get_status_display().lower()}.",
    )


@login_required
@require_POST
@password_recently_entered
def waiver_revoke(request, pk):
    user = request.user
    waiver = _get_waiver_for(user, pk)
    form = WaiverRevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write the reason for revoking the waiver.")
        return redirect(waiver)
    return carry_out(
        request, waiver,
        lambda: services.waiver_revoke(waiver=waiver, reason=form.cleaned_data["reason"], by=user),
        done=lambda after: "The waiver is revoked: it no longer applies.",
    )
