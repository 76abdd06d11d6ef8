"""The retention pages (S3.11, S3.12). Thin: a selector to find what the user may see, a form for the
shape of the input, one service call, a message and a redirect. Every rule lives in retention.services."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.selectors import get_or_404_logged
from portal.audit import audit_record
from portal.errors import RuleViolation
from portal.forms import DecisionForm
from portal.history import timeline
from portal.pages import carry_out, decide_view
from security.decorators import password_recently_entered

from . import selectors, services
from .models import RetentionExtension
from .forms import RETENTION_DECISIONS, RetentionEndForm, RetentionExtensionForm

Status = RetentionExtension.Status


def _get_extension_for(user, pk) -> RetentionExtension:
    queryset = selectors.retention_extensions_visible_to(user).select_related("requested_by", "decided_by")
    return get_or_404_logged(queryset, user=user, pk=pk, what="retention extension")


@login_required
@require_GET
def retention_list(request):
    user = request.user
    if not selectors.may_see_retention(user):
        audit_record(actor=user, action="retention_extension.list", target="retention extensions", outcome="denied")
        raise Http404("No retention pages here.")
    status = request.GET.get("status", "")
    if status not in Status.values:
        status = ""
    visible = selectors.retention_extensions_visible_to(user)
    extensions = visible.select_related("requested_by", "decided_by").prefetch_related("systems")
    if status:
        extensions = extensions.filter(status=status)
    extensions = extensions.order_by("-requested_at", "-pk")
    page_obj = Paginator(extensions, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    rows = selectors.retention_by_system()
    shown = set(visible.filter(pk__in=[row.extension.pk for row in rows if row.extension])
                .values_list("pk", flat=True))
    return render(request, "retention/list.html", {
        "rows": [{"row": row, "linked": row.extension is not None and row.extension.pk in shown} for row in rows],
        "page_obj": page_obj, "status": status, "statuses": Status.choices,
        "query_string": urlencode({"status": status}) if status else "",
        "may_request": services.may_request(user),
        "default_days": services.DEFAULT_DAYS,
    })


@login_required
@require_http_methods(["GET", "POST"])
def retention_new(request):
    user = request.user
    if not services.may_request(user):
        audit_record(actor=user, action="retention_extension.new", target="retention extension", outcome="denied")
        raise Http404("Only a department head or ITSA asks for a retention extension.")
    systems = selectors.retention_systems_for(user)
    if request.method == "POST":
        form = RetentionExtensionForm(request.POST, systems=systems)
        if form.is_valid():
            data = form.cleaned_data
            try:
                extension = services.retention_extension_request(
                    systems=data["systems"], area=data["area"], condition=data["condition"],
                    justification=data["justification"], retention_days=data["retention_days"],
                    starts_on=data["starts_on"], ends_on=data["ends_on"], review_on=data["review_on"], by=user,
                )
            except RuleViolation as refusal:
                form.add_error(form.error_field(refusal.field), refusal.message)
            else:
                messages.success(request, "Your request is with the Director of Public Safety.")
                return redirect(extension)
    else:
        form = RetentionExtensionForm(systems=systems)
    return render(request, "retention/new.html", {
        "form": form, "conditions": services.CONDITION_TEXT, "biometric_flag": selectors.BIOMETRIC_FLAG,
    })


@login_required
@require_GET
def retention_detail(request, pk):
    user = request.user
    extension = _get_extension_for(user, pk)
    systems = list(extension.systems.order_by("name"))
    can_decide = services.may_decide(extension=extension, user=user)
    can_end = services.may_end(extension=extension, user=user)
    return render(request, "retention/detail.html", {
        "extension": extension,
        "systems": systems,
        "condition_text": services.CONDITION_TEXT[extension.condition],
        "biometric_note": selectors.biometric_exclusion(systems),
        "biometric_flag": selectors.BIOMETRIC_FLAG,
        "length_days": (extension.ends_on - extension.starts_on).days,
        "can_decide": can_decide,
        "decide_form": DecisionForm(choices=RETENTION_DECISIONS) if can_decide else None,
        "can_end": can_end,
        "end_form": RetentionEndForm() if can_end else None,
        "timeline": timeline(extension),
    })


retention_decide = login_required(require_POST(password_recently_entered(decide_view(
    get=_get_extension_for, choices=RETENTION_DECISIONS,
    decide=lambda extension, approve, **decision: services.retention_extension_decide(
        extension=extension, grant=approve, **decision),
    done=lambda extension, approve: f"The retention extension is {'granted' if approve else 'denied'}.",
))))


@login_required
@require_POST
@password_recently_entered
def retention_end(request, pk):
    user = request.user
    extension = _get_extension_for(user, pk)
    form = RetentionEndForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write the reason for ending the extension.")
        return redirect(extension)
    return carry_out(
        request, extension,
        lambda: services.retention_extension_end(extension=extension, reason=form.cleaned_data["reason"], by=user),
        done="The retention extension has ended: its systems are back to 30 days.",
    )
