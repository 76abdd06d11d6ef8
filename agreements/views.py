"""The information sharing agreement pages (S3.7, Table 2). Thin: a selector to find what the user
may see, a form for the shape of the input, one service call. Every rule lives in agreements.services."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.selectors import get_or_404_logged, grants_visible_to
from portal.audit import audit_record
from portal.errors import RuleViolation
from portal.history import combined_timeline
from portal.pages import query_string_without_page

from . import services
from .forms import AgreementDecideForm, AgreementEndForm, AgreementFilterForm, AgreementForm, ThirdPartyPersonForm
from .models import SharingAgreement
from .selectors import agreements_list, agreements_visible_to


def _get_agreement_for(user, pk) -> SharingAgreement:
    agreements = agreements_visible_to(user).select_related(
        "department", "department__head", "requested_by", "decided_by", "ended_by")
    return get_or_404_logged(agreements, user=user, pk=pk, what="sharing agreement")


@login_required
@require_GET
def agreement_list(request):
    form = AgreementFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    rows = agreements_list(
        request.user, q=(filters.get("q") or "").replace("\x00", "").strip(),
        status=filters.get("status", ""), category=filters.get("category", ""),
    ).prefetch_related("systems")
    return render(request, "agreements/list.html", {
        "form": form,
        "page_obj": Paginator(rows, settings.PAGE_SIZE).get_page(request.GET.get("page")),
        "query_string": query_string_without_page(request),
        "filtered": bool(filters.get("q") or filters.get("status") or filters.get("category")),
        "may_request": services.may_request_agreement(request.user),
    })


@login_required
@require_http_methods(["GET", "POST"])
def agreement_new(request):
    user = request.user
    departments = user.roles.headed_departments
    if not departments:
        audit_record(actor=user, action="agreement.new", target="sharing agreement", outcome="denied")
        raise Http404("Only department heads ask for information sharing agreements.")
    if request.method == "POST":
        form = AgreementForm(request.POST, departments=departments)
        if form.is_valid():
            data = form.cleaned_data
            try:
                agreement = services.agreement_request(by=user, **data)
            except RuleViolation as refusal:
                form.add_error(form.error_field(refusal.field), refusal.message)
            else:
                messages.success(request, f"The agreement with {agreement.third_party} is with the Mayor's designee.")
                return redirect(agreement)
    else:
        form = AgreementForm(departments=departments)
    return render(request, "agreements/new.html", {
        "form": form, "table_2": services.TABLE_2.values(),
    })


def _detail(request, agreement, *, decide_form=None, end_form=None, person_form=None, status=200):
    user = request.user
    today = timezone.localdate()
    can_decide = services.may_decide_agreement(agreement=agreement, user=user)
    can_end = services.may_end_agreement(agreement=agreement, user=user)
    can_add_person = services.may_add_third_party_person(agreement=agreement, user=user, today=today)
    grants = list(agreement.grants.select_related("person", "system").prefetch_related("permissible_uses")
                  .order_by("person__full_name", "system__name", "-provisioned_at"))
    openable = set(grants_visible_to(user).filter(pk__in=[grant.pk for grant in grants]).values_list("pk", flat=True))
    return render(request, "agreements/detail.html", {
        "agreement": agreement,
        "row": services.table_2_row(agreement.category),
        "systems": list(agreement.systems.all()),
        "grants": grants,
        "openable": openable,
        "in_force": agreement.is_in_force(today),
        "can_decide": can_decide,
        "decide_form": decide_form or (AgreementDecideForm() if can_decide else None),
        "can_end": can_end,
        "end_form": end_form or (AgreementEndForm() if can_end else None),
        "can_add_person": can_add_person,
        "person_form": person_form or (ThirdPartyPersonForm(agreement=agreement) if can_add_person else None),
        "timeline": combined_timeline(agreement, *grants),
    }, status=status)


@login_required
@require_GET
def agreement_detail(request, pk):
    return _detail(request, _get_agreement_for(request.user, pk))


def _refused(request, agreement, form, refusal: RuleViolation, key: str):
    messages.error(request, refusal.message)
    form.add_error(form.error_field(refusal.field), refusal.message)
    return _detail(request, agreement, **{key: form})


@login_required
@require_POST
def agreement_decide(request, pk):
    user = request.user
    agreement = _get_agreement_for(user, pk)
    form = AgreementDecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.incomplete)
        return _detail(request, agreement, decide_form=form)
    approve = form.approves
    before = agreement.status
    try:
        agreement = services.agreement_decide(
            agreement=agreement, approve=approve, reason=form.cleaned_data["reason"],
            mayor_approved_on=form.cleaned_data["mayor_approved_on"], by=user,
        )
    except RuleViolation as refusal:
        return _refused(request, agreement, form, refusal, "decide_form")
    if agreement.status == before:
        messages.info(request, f"Nothing changed: this agreement is already “{agreement.get_status_display()}”.")
    else:
        messages.success(request, f"The agreement with {agreement.third_party} is "
                                  f"{'approved' if approve else 'denied'}.")
    return redirect(agreement)


@login_required
@require_POST
def agreement_end(request, pk):
    user = request.user
    agreement = _get_agreement_for(user, pk)
    form = AgreementEndForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write the reason for ending the agreement.")
        return _detail(request, agreement, end_form=form)
    before = agreement.status
    try:
        agreement = services.agreement_end(agreement=agreement, reason=form.cleaned_data["reason"], by=user)
    except RuleViolation as refusal:
        return _refused(request, agreement, form, refusal, "end_form")
    if agreement.status == before:
        messages.info(request, "Nothing changed: this agreement has already ended.")
    else:
        messages.success(request, f"The agreement with {agreement.third_party} has ended; its access is removed.")
    return redirect(agreement)


@login_required
@require_POST
def agreement_add_person(request, pk):
    user = request.user
    agreement = _get_agreement_for(user, pk)
    form = ThirdPartyPersonForm(request.POST, agreement=agreement)
    if not form.is_valid():
        messages.error(request, "The person was not added: check the fields marked below.")
        return _detail(request, agreement, person_form=form)
    try:
        grant = services.third_party_access_add(agreement=agreement, by=user, **form.cleaned_data)
    except RuleViolation as refusal:
        return _refused(request, agreement, form, refusal, "person_form")
    ends_on = agreement.ends_on
    messages.success(request, f"{grant.person} ({agreement.third_party}) has view-only access to {grant.system} "
                              f"until 00:00 on {ends_on:%B} {ends_on.day}, {ends_on.year}.")
    return redirect(agreement)
