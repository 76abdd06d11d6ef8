"""ITSA's import page: upload the four files, see the check, confirm the import (adoption.uploads).
Thin: a selector for what the reader may see, the form for the files' shape, one service call."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.selectors import get_or_404_logged
from audits.models import Validation
from portal.audit import audit_record
from portal.errors import RuleViolation
from security.decorators import password_recently_entered

from . import selectors, uploads
from .forms import UploadForm
from .models import Upload

RECENT = 20


def _readable_or_404(user) -> None:
    if not user.roles.reads_every_department:
        audit_record(actor=user, action="adoption.view", target="import page", outcome="denied")
        raise Http404("No page here.")


@login_required
@require_http_methods(["GET", "POST"])
def upload_index(request):
    user = request.user
    _readable_or_404(user)
    form = UploadForm()
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                upload = uploads.upload_stage(files=form.contents(), by=user)
            except RuleViolation as refusal:
                form.add_error(form.error_field((refusal.field or "").removesuffix(".csv")), refusal.message)
            else:
                messages.success(request, "The files are uploaded. They are being checked: nothing is imported "
                                          "until you confirm.")
                return redirect(upload)
    return render(request, "adoption/index.html", {
        "form": form, "may_import": user.roles.is_itsa,
        "document_limit_mb": settings.SUPPORTING_DOCUMENT_MAX_BYTES // (1024 * 1024),
        "uploads": selectors.uploads_visible_to(user).select_related("uploaded_by", "batch")[:RECENT],
    })


def _upload_for(request, pk) -> Upload:
    queryset = selectors.uploads_visible_to(request.user).select_related("uploaded_by", "imported_by", "batch")
    return get_or_404_logged(queryset, user=request.user, pk=pk, what="import upload")


@login_required
@require_GET
def upload_detail(request, pk):
    upload = _upload_for(request, pk)
    context = {
        "upload": upload, "may_import": request.user.roles.is_itsa and upload.may_import,
        "validations": Validation.objects.filter(pk__in=upload.validations).select_related("department")
        .order_by("department__name"),
        "more_rows": sum(upload.totals.values()) > len(upload.shown_rows) if upload.totals else False,
    }
    if request.headers.get("HX-Request") and upload.is_working:
        return render(request, "adoption/_progress.html", context)
    if request.headers.get("HX-Request"):
        # The work is done: the whole page again, so the result replaces the progress note.
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "adoption/upload.html", context)


@login_required
@require_GET
def upload_report(request, pk):
    upload = _upload_for(request, pk)
    audit_record(actor=request.user, action="adoption.report", target=upload)
    response = HttpResponse(upload.report, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-check-{upload.pk}.csv"'
    return response


@login_required
@require_POST
@password_recently_entered
def upload_import(request, pk):
    upload = _upload_for(request, pk)
    try:
        uploads.upload_import(upload=upload, by=request.user)
    except RuleViolation as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, "The import has started. This page shows its result when it is done.")
    return redirect(upload)
