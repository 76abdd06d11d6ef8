"""The incident pages (S5.2). Thin: a selector to find what the user may see, a form for the shape of
the input, one service call, a message and a redirect. Every rule lives in incidents.services."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.selectors import get_or_404_logged, grants_visible_to
from portal.errors import RuleViolation
from portal.history import timeline
from portal.pages import form_error_message
from portal.pickers import find_requested, matches_response, show_matches
from security.decorators import password_recently_entered

from . import selectors, services
from .forms import IncidentCloseForm, IncidentReportForm, IncidentSuspendForm
from .models import Incident


def _get_incident_for(user, pk) -> Incident:
    queryset = selectors.incidents_visible_to(user).select_related(
        "person__department", "system", "reported_by", "suspended_by", "closed_by"
    )
    return get_or_404_logged(queryset, user=user, pk=pk, what="incident")


def _incident_timeline(incident: Incident):
    """The incident's history. The creation of an anonymous report has no acting user: it says so,
    and names nobody."""
    entries = timeline(incident)
    if incident.anonymous:
        for entry in entries:
            if entry.who is None:
                entry.who = services.ANONYMOUS_REPORTER
    return entries


@login_required
@require_GET
def incident_list(request):
    user = request.user
    status = request.GET.get("status", "")
    if status not in Incident.Status.values:
        status = ""
    found = selectors.incidents_visible_to(user).select_related("person", "system")
    if status:
        found = found.filter(status=status)
    found = found.annotate(
        open_first=Case(When(status=Incident.Status.OPEN, then=Value(0)), default=Value(1),
                        output_field=IntegerField())
    ).order_by("open_first", "-reported_at", "-pk")
    return render(request, "incidents/list.html", {
        "page_obj": Paginator(found, settings.PAGE_SIZE).get_page(request.GET.get("page")),
        "status": status,
        "statuses": Incident.Status.choices,
        "query_string": urlencode({"status": status}) if status else "",
        "sees_every_incident": selectors.sees_every_incident(user),
    })


@login_required
@require_http_methods(["GET", "POST"])
def incident_new(request):
    user = request.user
    if request.method == "GET" and (found := matches_response(request, IncidentReportForm(request.GET))):
        return found
    if request.method == "POST":
        form = IncidentReportForm(request.POST)
        if name := find_requested(form, request.POST):
            show_matches(form, name)
        elif form.is_valid():
            data = form.cleaned_data
            try:
                incident = services.incident_report(
                    nature=data["nature"], description=data["description"], occurred_on=data["occurred_on"],
                    person=data["person"], system=data["system"], anonymous=data["anonymous"], by=user,
                )
            except RuleViolation as refusal:
                form.add_error(form.error_field(refusal.field), refusal.message)
            else:
                if incident.anonymous:
                    messages.success(
                        request,
                        f"Your anonymous report {incident.reference} is documented and the Mayor's designee has been "
                        "told. The portal kept no record that you sent it.",
                    )
                    return redirect("incidents:list")
                messages.success(request, f"Your report {incident.reference} is documented and the Mayor's "
                                          "designee has been told.")
                return redirect(incident)
    else:
        form = IncidentReportForm()
    return render(request, "incidents/new.html", {"form": form})


@login_required
@require_GET
def incident_detail(request, pk):
    user = request.user
    incident = _get_incident_for(user, pk)
    can_suspend = services.may_suspend(incident=incident, user=user)
    can_close = services.may_close(incident=incident, user=user)
    whole_case = selectors.sees_every_incident(user)
    suspended = list(incident.suspended_grants.select_related("system").order_by("system__name", "pk")) \
        if whole_case else []
    # A grant's page opens only for those who see its department's grants: link no other.
    openable = set(grants_visible_to(user).filter(pk__in=[grant.pk for grant in suspended])
                   .values_list("pk", flat=True))
    for grant in suspended:
        grant.openable = grant.pk in openable
    return render(request, "incidents/detail.html", {
        "incident": incident,
        "whole_case": whole_case,
        "suspended_grants": suspended,
        "can_suspend": can_suspend,
        "suspend_form": IncidentSuspendForm() if can_suspend else None,
        "can_close": can_close,
        "close_form": IncidentCloseForm() if can_close else None,
        "timeline": _incident_timeline(incident) if whole_case else [],
        "anonymous_reporter": services.ANONYMOUS_REPORTER,
    })


@login_required
@require_POST
@password_recently_entered
def incident_suspend(request, pk):
    user = request.user
    incident = _get_incident_for(user, pk)
    form = IncidentSuspendForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error_message(form))
        return redirect(incident)
    before = incident.suspended_at
    try:
        after = services.incident_suspend(incident=incident, reason=form.cleaned_data["reason"], by=user)
    except RuleViolation as refusal:
        messages.error(request, refusal.message)
    else:
        if before is not None:
            messages.info(request, "Nothing changed: the access was already suspended under this incident.")
        else:
            count = after.suspended_grants.count()
            messages.success(request, f"{after.person}'s access is suspended pending review ({count} "
                                      f"account{'s' if count != 1 else ''}). ITSA and the department head are told.")
    return redirect(incident)


@login_required
@require_POST
@password_recently_entered
def incident_close(request, pk):
    user = request.user
    incident = _get_incident_for(user, pk)
    form = IncidentCloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error_message(form))
        return redirect(incident)
    before = incident.status
    try:
        after = services.incident_close(
            incident=incident, corrective_action=form.cleaned_data["corrective_action"],
            reinstate=form.cleaned_data["reinstate"], by=user,
        )
    except RuleViolation as refusal:
        messages.error(request, refusal.message)
    else:
        if before == after.status:
            messages.info(request, "Nothing changed: this incident is already closed.")
        else:
            messages.success(request, f"Incident {after.reference} is closed with its corrective action.")
    return redirect(incident)
