"""The validation pages. Thin: a selector to find what the user may see, a form for the shape of the
input, one service call, a message and a redirect. Every rule lives in audits.services."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Grant
from accounts.selectors import get_or_404_logged
from portal.audit import audit_record
from portal.errors import RuleViolation
from portal.history import timeline
from portal.pages import form_error_message
from access_requests.forms import TEXT_LIMIT
from access_requests.selectors import access_requests_visible_to

from . import services
from .documents import COPY_LOST_AFTER, attestation_request, kept_attestation_is_intact
from .forms import ItemDecisionForm, KeepAllForm, SignOffForm, UserAuditForm
from .models import Validation, ValidationItem
from .selectors import (
    ITEM_SHOW_CHOICES, ITEM_SHOWS, completed_validations, department_schedule, heads_own_pending_count,
    open_validations, outgoing_request_for, undecided_with_outgoing_count, unused_too_long, validation_items_matching,
    validations_visible_to, with_progress_of,
)


def _get_validation_for(user, pk) -> Validation:
    queryset = validations_visible_to(user).select_related("department__head", "system", "opened_by", "signed_off_by")
    return with_progress_of(get_or_404_logged(queryset, user=user, pk=pk, what="validation"))


def _get_item_for(user, validation: Validation, item_pk) -> ValidationItem:
    queryset = ValidationItem.objects.filter(validation=validation).select_related("grant__person", "grant__system")
    return get_or_404_logged(queryset, user=user, pk=item_pk, what="validation item")


def _follows_validations(user) -> bool:
    roles = user.roles
    return roles.works_for_a_department or roles.reads_every_department or roles.is_designee


# --- Dashboard ----------------------------------------------------------------------------------

def _schedule_row(department, today):
    """The department, the local date its last annual validation was completed, and the day the next
    one is due to open (None while one is open: its due date is shown instead)."""
    last = timezone.localtime(department.last_completed).date() if department.last_completed else None
    next_due = None if department.open_annual_due else services.next_due_on(last_completed=last, today=today)
    return {"department": department, "last_validated": last, "next_due": next_due}


@login_required
@require_GET
def validation_list(request):
    user = request.user
    if not _follows_validations(user):
        audit_record(actor=user, action="validation_list.view", target="validations", outcome="denied")
        raise Http404("Validations are for department heads, ITSA and the Mayor's designee.")
    today = timezone.localdate()
    # PostgreSQL refuses a NUL byte in a query: drop it, as the services drop it from stored text.
    q = request.GET.get("q", "").replace("\x00", "").strip()[:200]
    validations = Paginator(open_validations(user, today=today, q=q), settings.PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    departments = Paginator(department_schedule(user, q=q), settings.PAGE_SIZE).get_page(
        request.GET.get("departments_page")
    )
    schedule = [_schedule_row(department, today) for department in departments]
    completed = Paginator(completed_validations(user, q=q), settings.PAGE_SIZE).get_page(request.GET.get("done_page"))
    return render(request, "audits/list.html", {
        "validations": validations, "departments": departments, "schedule": schedule, "today": today, "q": q,
        "completed": completed,
        "lead_days": settings.VALIDATION_LEAD_DAYS,
        "query_string": urlencode({"q": q}) if q else "",
    })


# --- One validation -----------------------------------------------------------------------------

def _item_filters(q, show) -> tuple[str, str]:
    """The search text and the `show` choice of the items table, as the query string gives them."""
    # PostgreSQL refuses a NUL byte in a query: drop it, as the services drop it from stored text.
    q = (q or "").replace("\x00", "").strip()[:200]
    return q, show if show in ITEM_SHOWS else "all"


def _items_query_string(q, show) -> str:
    """The filters to keep in the links to the other pages of the items table."""
    return urlencode({key: value for key, value in (("q", q), ("show", "" if show == "all" else show)) if value})


@login_required
@require_GET
def validation(request, pk):
    user = request.user
    review = _get_validation_for(user, pk)
    q, show = _item_filters(request.GET.get("q"), request.GET.get("show"))
    # One page of the items: the per-item work below stays the same however large the validation.
    paginator = Paginator(validation_items_matching(review, q=q, show=show), settings.PAGE_SIZE)
    if not q and show == "all":
        paginator.count = review.item_count  # counted with the progress: no second count of thousands of items
    page_obj = paginator.get_page(request.GET.get("page"))
    items = list(page_obj)
    may_decide = services.may_decide(validation=review, user=user)
    today = timezone.localdate()
    # Each grant's open removal or suspension came with the items (selectors.validation_items).
    outgoing = {item.pk: outgoing_request_for(item.grant) if item.grant.is_live else None for item in items}
    linked = {item.follow_up_id for item in items if item.follow_up_id}
    linked |= {request.pk for request in outgoing.values() if request is not None}
    # Asked even when the page shows no request (no request has id 0), so that the page runs the
    # same queries whatever its items hold.
    visible_requests = set(
        access_requests_visible_to(user).filter(pk__in=linked or [0]).values_list("pk", flat=True)
    )
    rows = []
    for item in items:
        item.validation = review
        grant, pending_out = item.grant, outgoing[item.pk]
        choices = services.item_decisions(item=item, outgoing=pending_out)
        decides = bool(choices) and services.may_decide_item(item=item, user=user)
        rows.append({
            "item": item, "follow_up_visible": item.follow_up_id in visible_requests, "decides": decides,
            # What the row's decision buttons name for a screen reader, and where they post.
            "about": f"{grant.person}’s access to {grant.system.name}" if decides else "",
            "decide_url": reverse("audits:decide", args=[review.pk, item.pk]) if decides else "",
            "may_keep": services.Decision.KEEP in choices, "may_revoke": services.Decision.REVOKE in choices,
            "may_change_role": services.Decision.CHANGE_ROLE in choices,
            "for_designee": services.decided_by_designee(item),
            "outgoing": pending_out, "outgoing_label": services.outgoing_label(pending_out) if pending_out else "",
            "outgoing_visible": pending_out is not None and pending_out.pk in visible_requests,
            "suspended": grant.status == Grant.Status.SUSPENDED,
            "temporary_until": grant.ends_on if grant.ends_on and not grant.view_only else None,
            "unused_too_long": grant.is_live and unused_too_long(grant, today=today),
        })
    pending_count = review.item_count - review.decided_count
    own_pending_count = outgoing_pending_count = 0
    if may_decide and pending_count:
        own_pending_count = heads_own_pending_count(review)
        outgoing_pending_count = undecided_with_outgoing_count(review)
    keep_all_count = pending_count - own_pending_count - outgoing_pending_count if may_decide else 0
    return render(request, "audits/validation.html", {
        "v": review,
        "rows": rows,
        # The decision forms are written out in the template, ItemDecisionForm's fields by hand: built
        # and rendered by Django for each of 25 rows they took most of the page's time. The form
        # still checks every POST.
        "role_choices": Grant.Role.choices,
        "text_limit": TEXT_LIMIT,
        "page_obj": page_obj,
        "q": q,
        "show": show,
        "show_choices": ITEM_SHOW_CHOICES,
        "filtered": bool(q) or show != "all",
        "query_string": _items_query_string(q, show),
        "pending_count": pending_count,
        "keep_all_count": keep_all_count,
        "own_pending_count": own_pending_count,
        "outgoing_pending_count": outgoing_pending_count,
        "unused_days": settings.GRANT_HYGIENE_UNUSED_DAYS,
        "may_decide": may_decide,
        "decides_items": any(row["decides"] for row in rows),
        "overdue": review.is_open and review.due_date < today,
        "keep_all_form": KeepAllForm() if may_decide else None,
        "sign_off_form": SignOffForm() if may_decide else None,
        "statement": services.sign_off_statement(validation=review, by=request.user, kept=review.kept_count)
        if may_decide else "",
        "timeline": timeline(review),
    })


@login_required
@require_GET
def attestation(request, pk):
    """The validation as a signed record: the PDF of every decision and the head's sign-off. Signed, the
    one kept at the sign-off; open, the last copy of the decisions so far made on a worker. Otherwise
    the attestation's page, which asks a worker for it."""
    review = _get_validation_for(request.user, pk)
    copy = getattr(review, "attestation_copy", None) if review.is_open else None
    if review.attestation_sha256:
        # Signed: the attestation kept at the sign-off, served only while it matches its fingerprint.
        if not kept_attestation_is_intact(review):
            audit_record(actor=request.user, action="validation.integrity_failed", target=review, outcome="denied",
                         detail=f"kept attestation does not match SHA-256 {review.attestation_sha256}")
            messages.error(request, "The kept attestation of this validation does not match its fingerprint, so it "
                                    "was not sent. ITSA has been told through the audit log.")
            return redirect(review)
        source, detail = review.attestation_pdf, "attestation (PDF)"
    elif copy is not None and copy.made_at and copy.pdf:
        source = copy.pdf
        detail = f"attestation copy (PDF) of the decisions as of {timezone.localtime(copy.made_at):%Y-%m-%d %H:%M %Z}"
    else:
        return redirect("audits:attestation_status", pk=review.pk)
    with source.open("rb") as handle:
        content = handle.read()
    audit_record(actor=request.user, action="validation.download", target=review, detail=detail)
    response = HttpResponse(content, content_type="application/pdf")
    name = f"attestation-{review.department.code}-{review.period:%Y-%m-%d}-{review.pk}.pdf"
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def attestation_status(request, pk):
    """Where the attestation is made: ask a worker for it (POST), see whether it is ready, download it."""
    review = _get_validation_for(request.user, pk)
    if request.method == "POST":
        attestation_request(validation=review, by=request.user)
        return redirect("audits:attestation_status", pk=review.pk)
    copy = getattr(review, "attestation_copy", None) if review.is_open else None
    working = (not review.attestation_sha256 and not review.is_open) or bool(copy and copy.is_pending)
    if request.headers.get("HX-Request"):
        if working:
            return render(request, "audits/_attestation_progress.html", {"v": review, "copy": copy})
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"  # done: the whole page again, with the download
        return response
    decided_since = (review.items.filter(decided_at__gt=copy.made_at).count()
                     if copy is not None and copy.made_at else 0)
    return render(request, "audits/attestation.html", {
        "v": review, "copy": copy, "working": working, "decided_since": decided_since,
        "lost_after_minutes": int(COPY_LOST_AFTER.total_seconds() // 60),
    })


@login_required
@require_POST
def decide(request, pk, item_pk):
    user = request.user
    review = _get_validation_for(user, pk)
    item = _get_item_for(user, review, item_pk)
    back = _validation_page_url(review, request.POST)
    form = ItemDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error_message(form))
        return redirect(back)
    data = form.cleaned_data
    before = item.decision
    already_open = outgoing_request_for(item.grant)
    try:
        decided = services.validation_item_decide(item=item, decision=data["decision"], reason=data["reason"],
                                                  new_role=data["new_role"], by=user)
    except RuleViolation as refusal:
        messages.error(request, refusal.message)
    else:
        messages.add_message(request, *_decided_message(item, before, decided, already_open=already_open))
    return redirect(back)


def _validation_page_url(review, data) -> str:
    """The page of the items table the decision was made on: the page number, search and `show` the
    form carried back, each checked, on the validation's own address (never an address from the input)."""
    page = data.get("return_page", "")
    q, show = _item_filters(data.get("return_q"), data.get("return_show"))
    params = {"page": page if page.isascii() and page.isdigit() and len(page) <= 9 else "", "q": q,
              "show": "" if show == "all" else show}
    query = urlencode({key: value for key, value in params.items() if value})
    url = reverse("audits:validation", args=[review.pk])
    return f"{url}?{query}" if query else url


def _decided_message(item, before, decided, *, already_open=None) -> tuple[int, str]:
    access = f"{item.grant.person}’s access to {item.grant.system}"
    Decision = ValidationItem.Decision
    if decided.decision == before:
        return messages.INFO, (f"Nothing changed: {access} is already decided "
                               f"({decided.get_decision_display().lower()}).")
    if decided.decision == Decision.KEEP:
        return messages.SUCCESS, f"You keep {access}."
    if decided.decision == Decision.REVOKE:
        if already_open is not None and decided.follow_up_id == already_open.pk:
            return messages.SUCCESS, (f"You revoked {access}. Removal request {decided.follow_up.reference}, already "
                                      "open, is its follow-up: no second request was sent to ITSA.")
        return messages.SUCCESS, f"You revoked {access}. Removal request {decided.follow_up.reference} is with ITSA."
    if decided.decision == Decision.CHANGE_ROLE:
        return messages.SUCCESS, (f"You changed the role in {access} to {decided.get_new_role_display().lower()}. "
                                  f"Change request {decided.follow_up.reference} is with ITSA.")
    return messages.INFO, f"The item is closed: {access} ended meanwhile."


@login_required
@require_POST
def keep_all(request, pk):
    user = request.user
    review = _get_validation_for(user, pk)
    form = KeepAllForm(request.POST)
    confirmed = form.is_valid() and form.cleaned_data["confirm"]
    try:
        result = services.validation_keep_all(validation=review, by=user, confirmed=confirmed)
    except RuleViolation as refusal:
        messages.error(request, refusal.message)
    else:
        kept = result.kept
        if kept:
            messages.success(request, f"You keep the {kept} access{'es' if kept != 1 else ''} not decided before.")
        elif not result.left:
            messages.info(request, "Nothing changed: every item was already decided.")
        if result.left:
            messages.warning(request, result.left_message)
    return redirect(review)


@login_required
@require_POST
def sign_off(request, pk):
    user = request.user
    review = _get_validation_for(user, pk)
    form = SignOffForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter your password to sign.")
        return redirect(review)
    before = review.status
    try:
        signed = services.validation_sign_off(validation=review, by=user, password=form.cleaned_data["password"])
    except RuleViolation as refusal:
        messages.error(request, refusal.message)
    else:
        if signed.status == before:
            messages.info(request, "Nothing changed: you already signed this off.")
        elif signed.status == Validation.Status.COMPLETE:
            messages.success(request, f"You signed off the {signed.get_kind_display().lower()}. It is complete.")
        else:
            messages.success(request, f"You signed off the {signed.get_kind_display().lower()}. It is complete "
                                      "once ITSA has processed the removals and changes you asked for.")
    return redirect(review)


# --- User audits (3.5) --------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def user_audit_new(request):
    user = request.user
    if not user.roles.is_itsa:
        audit_record(actor=user, action="user_audit.new", target="user audit", outcome="denied")
        raise Http404("Only ITSA orders user audits.")
    if request.method == "POST":
        form = UserAuditForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if data["department"] is None:
                    audits = services.user_audit_open_for_system(by=user, system=data["system"])
                else:
                    audit = services.user_audit_open(by=user, department=data["department"], system=data["system"])
            except RuleViolation as refusal:
                form.add_error(form.error_field(refusal.field), refusal.message)
            else:
                if data["department"] is None:
                    messages.success(request, f"User audits of {data['system']} are open in {len(audits)} "
                                              f"department{'s' if len(audits) != 1 else ''}. Nobody was told in advance.")
                    return redirect("audits:list")
                count = audit.items.count()
                messages.success(request, f"The user audit of {audit.department} is open with {count} "
                                          f"item{'s' if count != 1 else ''}. Nobody was told in advance.")
                return redirect(audit)
    else:
        form = UserAuditForm()
    return render(request, "audits/user_audit_new.html", {"form": form})
