"""The people list and the authorized-requester lists (3.3). The person, grant and department pages
show sections of the apps above this one, so they live in pages/."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.views.decorators.http import require_GET, require_POST

from portal.errors import NotAllowed, RuleViolation
from portal.pages import query_string_without_page
from portal.pickers import find_requested, matches_response, show_matches

from . import services
from .forms import PeopleFilterForm, RequesterAddForm, RequesterEndForm, RequesterSearchForm
from .selectors import (
    departments_visible_to,
    get_or_404_logged,
    people_list,
    requesters_list,
    requesters_visible_to,
    require_itsa_page,
)


def _page(request, rows):
    return Paginator(rows, settings.PAGE_SIZE).get_page(request.GET.get("page"))


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
        "form": form, "page_obj": _page(request, rows), "query_string": query_string_without_page(request),
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
        "query_string": query_string_without_page(request),
    })


@login_required
@require_GET
def requesters(request):
    require_itsa_page(request.user, "requesters")
    return matches_response(request, RequesterAddForm(request.GET)) or _requesters_page(request)


@login_required
@require_POST
def requester_add(request):
    form = RequesterAddForm(request.POST)
    if name := find_requested(form, request.POST):
        show_matches(form, name)
    elif form.is_valid():
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

