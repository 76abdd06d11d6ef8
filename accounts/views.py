"""Pages about people, grants, departments and the authorized-requester lists (3.3)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.views.decorators.http import require_GET, require_POST

from portal.errors import NotAllowed, RuleViolation
from portal.history import combined_timeline, timeline

from . import services
from .forms import PeopleFilterForm, RequesterAddForm, RequesterEndForm, RequesterSearchForm
from .selectors import (
    department_rows_visible_to,
    departments_visible_to,
    get_or_404_logged,
    grants_visible_to,
    people_list,
    people_visible_to,
    requesters_list,
    requesters_visible_to,
    require_itsa_page,
)


def _page(request, rows):
    return Paginator(rows, settings.PAGE_SIZE).get_page(request.GET.get("page"))


def _query_string(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _get_person_for(user, pk):
    people = people_visible_to(user).select_related("department", "department__head")
    return get_or_404_logged(people, user=user, pk=pk, what="person")


def _get_grant_for(user, pk):
    grants = grants_visible_to(user).select_related("person", "system", "department", "provisioned_by")
    return get_or_404_logged(grants, user=user, pk=pk, what="grant")


def _get_department_for(user, pk):
    departments = departments_visible_to(user).select_related("head")
    return get_or_404_logged(departments, user=user, pk=pk, what="department")


def _get_requester_for(user, pk):
    entries = requesters_visible_to(user).select_related("department")
    return get_or_404_logged(entries, user=user, pk=pk, what="requester")


@login_required
@require_GET
def people(request):
    form = PeopleFilterForm(request.GET or None, departments=departments_visible_to(request.user))
    filters = form.cleaned_data if form.is_valid() else {}
    rows = people_list(request.user, q=filters.get("q", ""), department=filters.get("department"))
    return render(request, "accounts/people.html", {
        "form": form, "page_obj": _page(request, rows), "query_string": _query_string(request),
    })


@login_required
@require_GET
def person(request, pk):
    person = _get_person_for(request.user, pk)
    grants = list(
        grants_visible_to(request.user).filter(person=person)
        .select_related("system", "department").prefetch_related("permissible_uses__intended_use")
        .order_by("system__name", "role", "-provisioned_at")
    )
    access_requests = department_rows_visible_to(request.user, person.access_requests.all()).select_related("system")
    department = person.department
    return render(request, "accounts/person.html", {
        "person": person,
        "live_grants": [grant for grant in grants if grant.is_live],
        "ended_grants": [grant for grant in grants if not grant.is_live],
        "access_requests": access_requests,
        "heads_their_department": department is not None and department.head_id == request.user.pk,
        "timeline": combined_timeline(person, *grants),
    })


@login_required
@require_GET
def grant(request, pk):
    grant = _get_grant_for(request.user, pk)
    today = timezone.localdate()
    return render(request, "accounts/grant.html", {
        "grant": grant,
        "access_requests": department_rows_visible_to(request.user, grant.requests.all()).select_related(
            "requested_by", "approved_by", "processed_by"),
        "uses": grant.permissible_uses.select_related("intended_use"),
        # Waivers (5.1) in force on this grant, through the reverse relation: accounts never imports audits.
        "waivers_in_force": grant.waivers.filter(status="granted", starts_on__lte=today, ends_on__gt=today)
        .select_related("intended_use").order_by("ends_on", "pk"),
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
        "system_access": department.system_access.filter(status="granted").select_related("system")
        .prefetch_related("intended_uses").order_by("system__name"),
        "people_count": department.people.count(),
        "today": timezone.localdate(),
        "timeline": timeline(department),
    })


def _requesters_page(request, *, add_form=None):
    require_itsa_page(request.user, "requesters")
    search = RequesterSearchForm(request.GET or None)
    q = search.cleaned_data["q"] if search.is_valid() else ""
    return render(request, "accounts/requesters.html", {
        "search": search,
        "add_form": add_form or RequesterAddForm(),
        "page_obj": _page(request, requesters_list(request.user, q=q)),
        "today": timezone.localdate(),
        "query_string": _query_string(request),
    })


@login_required
@require_GET
def requesters(request):
    return _requesters_page(request)


@login_required
@require_POST
def requester_add(request):
    form = RequesterAddForm(request.POST)
    if form.is_valid():
        try:
            entry = services.authorized_requester_add(by=request.user, **form.cleaned_data)
        except NotAllowed as refusal:
            messages.error(request, refusal.message)
            return redirect("home")
        except RuleViolation as refusal:
            messages.error(request, refusal.message)
            form.add_error(refusal.field if refusal.field in form.fields else None, refusal.message)
        else:
            since = date_format(entry.start_date, "F j, Y")
            messages.success(request, f"{entry.person} is on the list of {entry.department} from {since}.")
            return redirect("accounts:requesters")
    return _requesters_page(request, add_form=form)


@login_required
@require_POST
def requester_end(request, pk):
    entry = _get_requester_for(request.user, pk)
    form = RequesterEndForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter the last day as a date, or leave it empty to end it today.")
        return redirect("accounts:requesters")
    try:
        entry = services.authorized_requester_end(entry=entry, by=request.user, end_date=form.cleaned_data["end_date"])
    except NotAllowed as refusal:
        messages.error(request, refusal.message)
        return redirect(entry.department)
    except RuleViolation as refusal:
        messages.error(request, refusal.message)
        return redirect("accounts:requesters")
    off = date_format(entry.end_date, "F j, Y")
    messages.success(request, f"{entry.person} is off the list of {entry.department} from {off}.")
    return redirect("accounts:requesters")

