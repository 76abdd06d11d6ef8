"""The external connection pages (Section 3.6). Thin: a selector, a form, one service call, a
message and a redirect. Every rule lives in the services."""

from datetime import date, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
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
from .forms import EXTERNAL_DECISIONS, ExternalConnectionForm
from .models import ExternalConnection

Status = ExternalConnection.Status


def _get_connection_for(user, pk) -> ExternalConnection:
    queryset = selectors.external_connections_visible_to(user).select_related(
        "department", "requested_by", "decided_by", "renews"
    )
    return get_or_404_logged(queryset, user=user, pk=pk, what="external connection")


@login_required
@require_GET
def connection_list(request):
    q = request.GET.get("q", "").replace("\x00", "").strip()[:200]
    status = request.GET.get("status", "")
    if status not in Status.values:
        status = ""
    connections = selectors.external_connections_matching(
        selectors.external_connections_visible_to(request.user), q
    ).select_related("department", "requested_by", "decided_by").prefetch_related("systems")
    if status:
        connections = connections.filter(status=status)
    connections = connections.annotate(
        pending_first=Case(When(status=Status.PENDING, then=Value(0)), default=Value(1), output_field=IntegerField())
    ).order_by("pending_first", "-requested_at", "-pk")
    return render(request, "external/list.html", {
        "page_obj": Paginator(connections, settings.PAGE_SIZE).get_page(request.GET.get("page")),
        "q": q, "status": status, "statuses": Status.choices,
        "query_string": urlencode({key: value for key, value in (("q", q), ("status", status)) if value}),
    })


def _renewal_initial(renewed: ExternalConnection) -> dict:
    starts_on = renewed.ends_on
    return {
        "department": renewed.department_id, "name": renewed.name, "owner": renewed.owner,
        "owner_contact": renewed.owner_contact, "systems": list(renewed.systems.values_list("pk", flat=True)),
        "permissible_uses": list(renewed.permissible_uses.values_list("pk", flat=True)),
        "business_reasons": renewed.business_reasons, "method": renewed.method,
        "connection_detail": renewed.connection_detail, "starts_on": starts_on,
        "ends_on": starts_on + min(timedelta(services.MAX_DAYS), date.max - starts_on), "renews": renewed.pk,
    }


@login_required
@require_http_methods(["GET", "POST"])
def new(request):
    user = request.user
    departments = user.roles.headed_departments
    if not departments:
        audit_record(actor=user, action="external_connection.new", target="external connection", outcome="denied")
        raise Http404("Only department heads ask to connect an external system.")
    renewable = selectors.external_connections_visible_to(user).filter(department__in=departments)
    if request.method == "POST":
        form = ExternalConnectionForm(request.POST, departments=departments, renewable=renewable)
        if form.is_valid():
            data = form.cleaned_data
            try:
                connection = services.external_connection_request(
                    department=data["department"], name=data["name"], owner=data["owner"],
                    owner_contact=data["owner_contact"], systems=data["systems"],
                    permissible_uses=data["permissible_uses"], business_reasons=data["business_reasons"],
                    method=data["method"], connection_detail=data["connection_detail"],
                    starts_on=data["starts_on"], ends_on=data["ends_on"], renews=data["renews"], by=user,
                )
            except RuleViolation as refusal:
                form.add_error(form.error_field(refusal.field), refusal.message)
            else:
                messages.success(request, f"Your request to connect {connection.name} is with the Mayor's designee.")
                return redirect(connection)
        return render(request, "external/new.html", {"form": form, "renewed": form.cleaned_data.get("renews")})

    renewed = None
    if "renews" in request.GET:
        pk = request.GET["renews"]
        if not pk.isdigit():
            raise Http404("No external connection here.")
        renewed = get_or_404_logged(renewable.select_related("department"), user=user, pk=pk,
                                    what="external connection")
    initial = _renewal_initial(renewed) if renewed else {}
    form = ExternalConnectionForm(initial=initial, departments=departments, renewable=renewable)
    return render(request, "external/new.html", {"form": form, "renewed": renewed})


@login_required
@require_GET
def detail(request, pk):
    user = request.user
    connection = _get_connection_for(user, pk)
    can_decide = services.may_decide(connection=connection, user=user)
    return render(request, "external/detail.html", {
        "c": connection,
        "systems": list(connection.systems.all()),
        "uses": list(connection.permissible_uses.select_related("intended_use")),
        "renewals": list(connection.renewals.select_related("requested_by").order_by("-requested_at", "-pk")),
        "can_decide": can_decide,
        "can_withdraw": services.may_withdraw(connection=connection, user=user),
        "can_renew": services.may_renew(connection=connection, user=user),
        "decide_form": DecisionForm(choices=EXTERNAL_DECISIONS) if can_decide else None,
        "timeline": timeline(connection),
    })


decide = login_required(require_POST(password_recently_entered(decide_view(
    get=_get_connection_for, choices=EXTERNAL_DECISIONS,
    decide=lambda connection, **decision: services.external_connection_decide(connection=connection, **decision),
    done=lambda connection, approve: f"The connection of {connection.name} is {'approved' if approve else 'denied'}.",
))))


@login_required
@require_POST
def withdraw(request, pk):
    connection = _get_connection_for(request.user, pk)
    return carry_out(
        request, connection,
        lambda: services.external_connection_withdraw(connection=connection, by=request.user),
        done=f"The request to connect {connection.name} is withdrawn.",
    )
