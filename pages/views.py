"""The pages that show sections of many apps: the home dashboard, the person, grant and department
pages, and ITSA's audit log. Each section comes from a selector of the app that owns it."""

import csv
import json
from datetime import timezone as dt_timezone

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from access_requests.models import AccessRequest
from access_requests.selectors import (
    department_access_granted, requests_for_grant_visible_to, requests_for_person_visible_to,
)
from access_requests.views import dashboard_context
from accounts.models import Grant, SurveillanceSystem
from accounts.selectors import (
    departments_visible_to, get_or_404_logged, grants_visible_to, may_export_rosters, people_visible_to,
    require_audit_reader_page,
)
from agreements.selectors import agreement_of_grant
from adoption.selectors import adoption_batch_of_grant
from pages.audit_targets import audit_entries_label
from pages.selectors import to_decide
from security.selectors import active_oversight_appointment
from security.services import has_authenticator
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
        # ITSA's sign-in help: an invitation, or the reset of a lost authenticator (never their own).
        "sign_in_help": request.user.roles.is_itsa and person.pk != request.user.pk,
        "has_authenticator": has_authenticator(person),
    })


@login_required
@require_GET
def grant(request, pk):
    grant = _get_grant_for(request.user, pk)
    access_requests = requests_for_grant_visible_to(request.user, grant)
    return render(request, "accounts/grant.html", {
        "grant": grant,
        "may_export": may_export_rosters(request.user),
        "access_requests": access_requests.select_related("requested_by", "approved_by", "processed_by"),
        # The statement of how the uses' conditions are met (T1c): from the request that last set the uses.
        "condition_request": access_requests.filter(
            status=AccessRequest.Status.COMPLETED, action__in=[AccessRequest.Action.ADD, AccessRequest.Action.CHANGE],
        ).order_by("-processed_at", "-pk").first(),
        "uses": grant.permissible_uses.select_related("intended_use"),
        "waivers_in_force": waivers_in_force_for_grant(grant),
        "agreement": agreement_of_grant(grant),
        "adoption": adoption_batch_of_grant(grant),
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
        "may_export": may_export_rosters(request.user),
        "today": timezone.localdate(),
        "timeline": timeline(department),
    })


# --- Rosters out: CSV of who holds what, scoped as the pages are ------------------------------------

GRANT_COLUMNS = ["person", "e-mail", "employee department", "system", "role", "account name", "status", "view only",
                 "granted on behalf of", "since", "access ends"]


def _grant_row(grant) -> list:
    return [grant.person.full_name, grant.person.email, grant.person.department.name if grant.person.department else "",
            grant.system.name, grant.get_role_display(), grant.account_name, grant.get_status_display(),
            "yes" if grant.view_only else "no", grant.department.name,
            timezone.localtime(grant.provisioned_at).date().isoformat() if grant.provisioned_at else "",
            grant.ends_on.isoformat() if grant.ends_on else ""]


def _csv_download(rows, *, header, filename):
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([csv_cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_GET
def system_roster_csv(request, pk):
    """Who holds which role on a system, as far as the user's pages show it: every department's
    accounts for ITSA and oversight, the department's own for its head and requesters."""
    user = request.user
    if not may_export_rosters(user):
        audit_record(actor=user, action="roster.export", target=f"system {pk}", outcome="denied")
        raise Http404("No such page.")
    system = get_object_or_404(SurveillanceSystem, pk=pk)
    grants = (grants_visible_to(user).filter(system=system, status__in=Grant.LIVE_STATUSES)
              .select_related("person__department", "system", "department").order_by("role", "person__full_name", "pk"))
    audit_record(actor=user, action="roster.export", target=system, detail="who holds which role")
    stamp = timezone.localtime().strftime("%Y%m%d")
    return _csv_download((_grant_row(grant) for grant in grants.iterator(chunk_size=EXPORT_CHUNK)),
                         header=GRANT_COLUMNS, filename=f"roster-{system.code or system.pk}-{stamp}.csv")


@login_required
@require_GET
def department_people_csv(request, pk):
    """A department's people and their live grants, one row per grant (a person with none has one
    row with the grant columns empty)."""
    user = request.user
    department = _get_department_for(user, pk)
    if not may_export_rosters(user):
        audit_record(actor=user, action="roster.export", target=department, outcome="denied")
        raise Http404("No such page.")
    people = (people_visible_to(user).filter(department=department).select_related("department")
              .order_by("full_name", "email", "pk"))
    live = {}
    for grant in (grants_visible_to(user).filter(person__department=department, status__in=Grant.LIVE_STATUSES)
                  .select_related("person__department", "system", "department").order_by("system__name", "role")
                  .iterator(chunk_size=EXPORT_CHUNK)):
        live.setdefault(grant.person_id, []).append(grant)

    def rows():
        for person in people.iterator(chunk_size=EXPORT_CHUNK):
            held = live.get(person.pk)
            if not held:
                yield [person.full_name, person.email, department.name, "", "", "", "", "", "", "", ""]
            for grant in held or ():
                yield _grant_row(grant)

    audit_record(actor=user, action="roster.export", target=department, detail="people and grants")
    stamp = timezone.localtime().strftime("%Y%m%d")
    return _csv_download(rows(), header=GRANT_COLUMNS,
                         filename=f"people-{department.code or department.pk}-{stamp}.csv")


# --- The audit log (3.10), ITSA only ------------------------------------------------------------

@login_required
@require_GET
def audit_log(request):
    require_audit_reader_page(request.user, "audit_log")
    # Always bound: with no search every field is empty, which is a valid search for everything.
    form = AuditLogFilterForm(request.GET, actions=audit_actions())
    entries = audit_log_entries(**form.filters()) if form.is_valid() else AuditEvent.objects.none()
    page_obj = Paginator(entries, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    page_obj.object_list = list(page_obj.object_list)
    audit_entries_label(page_obj.object_list)
    return render(request, "portal/audit_log.html", {
        "form": form,
        "page_obj": page_obj,
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
