"""The pages that show sections of many apps: the home dashboard, the person, grant and department
pages, and ITSA's audit log. Each section comes from a selector of the app that owns it."""

import csv
import json
from datetime import timezone as dt_timezone

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from access_requests.models import AccessRequest
from access_requests.selectors import (
    department_access_granted, requests_for_grant_visible_to, requests_for_person_visible_to,
)
from access_requests.views import dashboard_context
from accounts.selectors import (
    departments_visible_to, get_or_404_logged, grants_visible_to, people_visible_to, require_audit_reader_page,
)
from agreements.selectors import agreement_of_grant
from pages.selectors import to_decide
from security.selectors import active_oversight_appointment
from waivers.selectors import waivers_in_force_for_grant
from portal.audit import audit_record
from portal.exports import csv_cell
from portal.forms import AuditLogFilterForm
from portal.history import combined_timeline, timeline
from portal.pages import query_string_without_page
from portal.models import AuditEvent
from portal.selectors import audit_actions, audit_log_entries

EXPORT_CHUNK = 2000


@login_required
@require_GET
def home(request):
    """The dashboard of the lifecycle, with what waits for the person's decision under Sections 3.6,
    3.7, 3.11 and 5, and the way to report misuse (5.2), which every signed-in person has."""
    context = dashboard_context(request)
    context["to_decide"] = to_decide(request.user)
    if request.user.roles.is_oversight:
        context["oversight_appointment"] = active_oversight_appointment(request.user)
    return render(request, "requests/dashboard.html", context)


# --- People, grants and departments (3.3) ---------------------------------------------------------

def _get_person_for(user, pk):
    people = people_visible_to(user).select_related("department", "department__head")
    return get_or_404_logged(people, user=user, pk=pk, what="person")


def _get_grant_for(user, pk):
    grants = grants_visible_to(user).select_related("person", "system", "department", "provisioned_by")
    return get_or_404_logged(grants, user=user, pk=pk, what="grant")


def _get_department_for(user, pk):
    departments = departments_visible_to(user).select_related("head")
    return get_or_404_logged(departments, user=user, pk=pk, what="department")


@login_required
@require_GET
def person(request, pk):
    person = _get_person_for(request.user, pk)
    grants = list(
        grants_visible_to(request.user).filter(person=person)
        .select_related("system", "department").prefetch_related("permissible_uses__intended_use")
        .order_by("system__name", "role", "-provisioned_at")
    )
    department = person.department
    return render(request, "accounts/person.html", {
        "person": person,
        "live_grants": [grant for grant in grants if grant.is_live],
        "ended_grants": [grant for grant in grants if not grant.is_live],
        "access_requests": requests_for_person_visible_to(request.user, person).select_related("system"),
        "heads_their_department": department is not None and department.head_id == request.user.pk,
        "timeline": combined_timeline(person, *grants),
    })


@login_required
@require_GET
def grant(request, pk):
    grant = _get_grant_for(request.user, pk)
    access_requests = requests_for_grant_visible_to(request.user, grant)
    return render(request, "accounts/grant.html", {
        "grant": grant,
        "access_requests": access_requests.select_related("requested_by", "approved_by", "processed_by"),
        # The statement of how the uses' conditions are met (T1c): from the request that last set the uses.
        "condition_request": access_requests.filter(
            status=AccessRequest.Status.COMPLETED, action__in=[AccessRequest.Action.ADD, AccessRequest.Action.CHANGE],
        ).order_by("-processed_at", "-pk").first(),
        "uses": grant.permissible_uses.select_related("intended_use"),
        "waivers_in_force": waivers_in_force_for_grant(grant),
        "agreement": agreement_of_grant(grant),
        "timeline": timeline(grant),
    })


@login_required
@require_GET
def department(request, pk):
    department = _get_department_for(request.user, pk)
    return render(request, "accounts/department.html", {
        "department": department,
        "requesters": department.authorized_requesters.select_related("person", "added_by").order_by(
            "-start_date", "person__full_name"),
        "system_access": department_access_granted(department).select_related("system")
        .prefetch_related("intended_uses").order_by("system__name"),
        "people_count": department.people.count(),
        "today": timezone.localdate(),
        "timeline": timeline(department),
    })


# --- The audit log (3.10), ITSA only ------------------------------------------------------------

@login_required
@require_GET
def audit_log(request):
    require_audit_reader_page(request.user, "audit_log")
    # Always bound: with no search every field is empty, which is a valid search for everything.
    form = AuditLogFilterForm(request.GET, actions=audit_actions())
    entries = audit_log_entries(**form.filters()) if form.is_valid() else AuditEvent.objects.none()
    return render(request, "portal/audit_log.html", {
        "form": form,
        "page_obj": Paginator(entries, settings.PAGE_SIZE).get_page(request.GET.get("page")),
        "query_string": query_string_without_page(request),
        "retention_days": settings.AUDIT_RETENTION_DAYS,
        "time_zone": settings.TIME_ZONE,
    })


class _Echo:
    """The file-like object csv.writer needs; each row goes straight to the response."""

    def write(self, value):
        return value


def _csv_rows(entries):
    writer = csv.writer(_Echo())
    yield writer.writerow(["seq", "time (UTC)", f"time ({settings.TIME_ZONE})", "person e-mail", "person",
                           "action", "outcome", "target", "IP address", "detail", "hash"])
    rows = entries.order_by("seq").values_list(
        "seq", "at", "actor__email", "actor__full_name", "action", "outcome", "target", "ip_address", "detail",
        "hash",
    )
    for seq, at, email, name, action, outcome, target, ip_address, detail, chain_hash in rows.iterator(
            chunk_size=EXPORT_CHUNK):
        yield writer.writerow([csv_cell(value) for value in (
            seq, at.astimezone(dt_timezone.utc).isoformat(), timezone.localtime(at).isoformat(), email, name, action,
            outcome, target, ip_address, detail, chain_hash,
        )])


@login_required
@require_GET
def audit_log_export(request):
    """The entries of the current search as CSV, oldest first; the export itself is on the log."""
    require_audit_reader_page(request.user, "audit_log")
    form = AuditLogFilterForm(request.GET, actions=audit_actions())
    if not form.is_valid():
        # The log page shows what is wrong with the search.
        return redirect(f"{reverse('audit_log')}?{request.GET.urlencode()}")
    filters = form.filters()
    audit_record(actor=request.user, action="audit_log.export", target="audit log",
                 detail=json.dumps(filters, default=str, sort_keys=True))
    response = StreamingHttpResponse(_csv_rows(audit_log_entries(**filters)), content_type="text/csv")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    return response
