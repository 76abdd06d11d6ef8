"""The request pages. Thin: a selector to find what the user may see, a form for the shape of the
input, one service call, a message and a redirect. Every rule lives in access_requests.services."""

import heapq
from itertools import islice

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Prefetch, Q, Value, When
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header, urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Grant, SurveillanceSystem
from accounts.selectors import departments_for, get_or_404_logged, own_grants, people_visible_to
from portal.audit import audit_record
from portal.errors import RuleViolation
from portal.forms import DecisionForm
from portal.history import combined_timeline, timeline
from portal.pages import carry_out, decide_view
from portal.pickers import find_requested, matches_response, show_matches
from security.decorators import password_recently_entered

from . import services
from .forms import (
    DEPARTMENT_ACCESS_DECISIONS, AccessRequestForm, DepartmentAccessForm, DocumentForm, PreviewForm, ProvisionForm,
    ReasonForm, StatusChangeForm,
)
from .models import AccessRequest, DepartmentAccess, SupportingDocument, WrittenRequest
from .selectors import access_requests_matching, access_requests_visible_to, department_access_visible_to, itsa_queue

# The dashboard shows the first few rows of each list and links to the full, paginated list.
DASHBOARD_ROWS = 10
# Requests awaiting a head that the dashboard checks with may_approve.
APPROVAL_CANDIDATES = 100

REQUEST_RELATED = ("department", "person", "system")


def _get_request_for(user, pk) -> AccessRequest:
    queryset = access_requests_visible_to(user).select_related(
        "department", "person", "system", "grant", "requested_by", "approved_by", "processed_by", "status_change"
    )
    return get_or_404_logged(queryset, user=user, pk=pk, what="access request")


def _get_department_access_for(user, pk) -> DepartmentAccess:
    queryset = department_access_visible_to(user).select_related("department", "system", "requested_by", "decided_by",
                                                                  "revoked_by")
    return get_or_404_logged(queryset, user=user, pk=pk, what="department access")


def _page(request, queryset):
    return Paginator(queryset, settings.PAGE_SIZE).get_page(request.GET.get("page"))


def _list_filters(request, statuses) -> tuple[str, str, str]:
    """The search text, the status filter (ignored unless it is a known status) and both as a query string."""
    # PostgreSQL refuses a NUL byte in a query: drop it, as the services drop it from stored text.
    q = request.GET.get("q", "").replace("\x00", "").strip()[:200]
    status = request.GET.get("status", "")
    if status not in statuses:
        status = ""
    return q, status, urlencode({key: value for key, value in (("q", q), ("status", status)) if value})


def _chosen(objects, pk):
    return next((obj for obj in objects if str(obj.pk) == str(pk)), None)


# --- Dashboard ----------------------------------------------------------------------------------

def dashboard_context(request) -> dict:
    """The dashboard's lifecycle panels. The home page (pages.views.home, at the top of the apps)
    adds what waits for a decision under Sections 3.6, 3.7, 3.11 and 5."""
    user = request.user
    roles = user.roles
    visible = access_requests_visible_to(user)
    context = {"no_role": not (roles.works_for_a_department or roles.is_itsa or roles.is_designee or roles.is_director
                               or roles.is_oversight)}
    context["own_grants"] = list(own_grants(user))

    if roles.works_for_a_department:
        departments = list(departments_for(user))
        people = list(
            people_visible_to(user).filter(department__in=departments).select_related("department").prefetch_related(
                Prefetch(
                    "grants", to_attr="live_grants",
                    queryset=Grant.objects.filter(status__in=Grant.LIVE_STATUSES).select_related("system"),
                )
            )[: DASHBOARD_ROWS + 1]
        )
        in_flight = _newest_open_requests(visible.filter(department__in=departments).select_related(*REQUEST_RELATED))
        context.update(
            departments=departments,
            people=people[:DASHBOARD_ROWS], more_people=len(people) > DASHBOARD_ROWS,
            in_flight=in_flight[:DASHBOARD_ROWS], more_in_flight=len(in_flight) > DASHBOARD_ROWS,
        )

    if roles.is_head or roles.is_designee:
        candidates = visible.filter(status=AccessRequest.Status.AWAITING_HEAD).select_related(*REQUEST_RELATED)
        to_approve = [r for r in candidates[:APPROVAL_CANDIDATES] if services.may_approve(request=r, user=user)]
        context.update(to_approve=to_approve[:DASHBOARD_ROWS], more_to_approve=len(to_approve) > DASHBOARD_ROWS)

    if roles.is_itsa:
        context.update(
            queue_count=itsa_queue(user).count(),
            recently_processed=list(
                visible.filter(status__in=[AccessRequest.Status.COMPLETED, AccessRequest.Status.RETURNED])
                .select_related(*REQUEST_RELATED, "processed_by").order_by("-processed_at", "-pk")[:DASHBOARD_ROWS]
            ),
        )

    if roles.is_designee:
        pending = department_access_visible_to(user).filter(status=DepartmentAccess.Status.PENDING)
        context.update(
            pending_access=list(
                pending.select_related("department", "system", "requested_by").order_by("requested_at", "pk")[
                    :DASHBOARD_ROWS
                ]
            ),
            pending_access_count=pending.count(),
        )
    return context


def _newest_open_requests(requests) -> list[AccessRequest]:
    """The newest open requests (one more than the dashboard shows, to tell whether there are more),
    one query per open status, merged newest first. Each query reads the (department, status, newest)
    index; with `status IN (...)` the generic plan of the prepared statement walked every request of
    the department newest first (10 ms for a department of 9,000 requests, at every visit)."""
    by_status = [list(requests.filter(status=status).order_by("-submitted_at", "-pk")[: DASHBOARD_ROWS + 1])
                 for status in AccessRequest.OPEN_STATUSES]
    newest = heapq.merge(*by_status, key=lambda request: (request.submitted_at, request.pk), reverse=True)
    return list(islice(newest, DASHBOARD_ROWS + 1))


# --- Access requests ----------------------------------------------------------------------------

@login_required
@require_GET
def request_list(request):
    q, status, query_string = _list_filters(request, AccessRequest.Status.values)
    requests = access_requests_matching(access_requests_visible_to(request.user), q).select_related(*REQUEST_RELATED)
    if status:
        requests = requests.filter(status=status)
    return render(request, "requests/list.html", {
        "page_obj": _page(request, requests), "q": q, "status": status, "query_string": query_string,
        "statuses": AccessRequest.Status.choices,
    })


@login_required
@require_http_methods(["GET", "POST"])
def new(request):
    user = request.user
    departments = user.roles.requester_departments
    if not departments:
        return render(request, "requests/new.html", {"form": None})
    source = request.POST if request.method == "POST" else request.GET
    department = departments[0] if len(departments) == 1 else _chosen(departments, source.get("department"))
    if request.method == "GET" and (found := matches_response(
            request, AccessRequestForm(request.GET, departments=departments, department=department))):
        return found

    if request.method == "POST":
        # Every use of Table 1 is a valid choice here: the service says which ones the department may name.
        form = AccessRequestForm(request.POST, request.FILES, departments=departments, department=department)
        if name := find_requested(form, request.POST):
            show_matches(form, name)
        elif form.is_valid():
            data = form.cleaned_data
            try:
                filed = services.access_request_submit(
                    department=data["department"], person=data["person"], system=data["system"],
                    action=data["action"], role=data["role"], permissible_uses=data["permissible_uses"],
                    justification=data["justification"], documents=data["documents"], by=user,
                    ends_on=data.get("ends_on"), condition_statement=data.get("condition_statement", ""),
                )
            except RuleViolation as refusal:
                form.add_error(form.error_field(refusal.field), refusal.message)
            else:
                next_step = "It is with ITSA." if filed.is_with_itsa else "It waits for the head's approval."
                messages.success(request, f"Access request {filed.reference} is filed. {next_step}")
                return redirect(filed)
        return render(request, "requests/new.html", {"form": form})

    system_pk = request.GET.get("system", "")
    system = SurveillanceSystem.objects.filter(pk=system_pk).first() if system_pk.isdigit() else None
    uses = services.authorized_uses(department=department, system=system) if department and system else None
    initial = {name: request.GET[name] for name in ("person", "system", "action", "role") if name in request.GET}
    if department:
        initial["department"] = department.pk
    form = AccessRequestForm(initial=initial, departments=departments, department=department, uses=uses)
    return render(request, "requests/new.html", {"form": form, "department": department, "system": system,
                                                 "uses_limited": uses is not None})


@login_required
@require_POST
def preview(request):
    user = request.user
    form = PreviewForm(request.POST, departments=user.roles.requester_departments, people=people_visible_to(user))
    problems = services.access_request_preview(**form.cleaned_data) if form.is_valid() else None
    ends_on = form.cleaned_data.get("ends_on") if problems is not None else None
    return render(request, "requests/_preview.html", {"problems": problems, "ends_on": ends_on})


@login_required
@require_GET
def detail(request, pk):
    return _detail(request, _get_request_for(request.user, pk))


def _detail(request, access_request, *, provision_form=None):
    user = request.user
    # An ITSA member who may not provision this request is told why, and who may (S3.2c).
    refusal = services.provision_refusal(request=access_request, user=user) if access_request.is_with_itsa else None
    can_provision = access_request.is_with_itsa and refusal is None
    shown_refusal = refusal if user.roles.is_itsa else None
    return render(request, "requests/detail.html", {
        "r": access_request,
        "uses": list(access_request.permissible_uses.select_related("intended_use")),
        "documents": list(access_request.documents.select_related("uploaded_by")),
        "can_attach": services.may_attach(request=access_request, user=user),
        "can_approve": access_request.is_awaiting_head and services.may_approve(request=access_request, user=user),
        "can_withdraw": services.may_withdraw(request=access_request, user=user),
        "can_provision": can_provision,
        "can_return": services.may_return(request=access_request, user=user),
        "decline_form": ReasonForm(auto_id="decline_%s", label="Reason for declining"),
        "return_form": ReasonForm(auto_id="return_%s", label="Reason for returning the request"),
        "provision_form": provision_form or (ProvisionForm(access_request=access_request) if can_provision else None),
        "provision_refusal": shown_refusal,
        "provisioners": list(services.provisioners(request=access_request)) if shown_refusal else [],
        "document_form": DocumentForm(),
        "timeline": combined_timeline(access_request, access_request.grant),
        "written_pdf": WrittenRequest.objects.filter(request=access_request).defer("pdf").first(),
    })


@login_required
@require_GET
def written_pdf(request, pk):
    """The PDF made when the request was filed, served only while it still matches its SHA-256."""
    access_request = _get_request_for(request.user, pk)
    written = WrittenRequest.objects.filter(request=access_request).first()
    if written is None:
        raise Http404("This request was filed before written requests were kept as PDF; download its text instead.")
    if not written.is_intact():
        audit_record(actor=request.user, action="access_request.integrity_failed", target=access_request,
                     outcome="denied", detail=f"stored PDF does not match SHA-256 {written.sha256}")
        messages.error(request, f"The stored PDF of {access_request.reference} does not match its fingerprint, so it "
                                "was not sent. ITSA has been told through the audit log; download the text instead.")
        return redirect(access_request)
    audit_record(actor=request.user, action="access_request.download", target=access_request,
                 detail="written request (PDF)")
    response = HttpResponse(bytes(written.pdf), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, f"{access_request.reference}.pdf")
    return response


@login_required
@require_GET
def written(request, pk):
    access_request = _get_request_for(request.user, pk)
    audit_record(actor=request.user, action="access_request.download", target=access_request,
                 detail="written request")
    response = HttpResponse(access_request.written_text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"{access_request.reference}.txt")
    return response


@login_required
@require_POST
@password_recently_entered
def approve(request, pk):
    access_request = _get_request_for(request.user, pk)
    return carry_out(
        request, access_request,
        lambda: services.access_request_approve(request=access_request, by=request.user),
        done=f"You approved {access_request.reference}. It is now with ITSA.",
    )


@login_required
@require_POST
def decline(request, pk):
    access_request = _get_request_for(request.user, pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write the reason for declining, so the requester knows what to do next.")
        return redirect(access_request)
    return carry_out(
        request, access_request,
        lambda: services.access_request_decline(request=access_request, reason=form.cleaned_data["reason"],
                                                by=request.user),
        done=f"You declined {access_request.reference}.",
    )


@login_required
@require_POST
def withdraw(request, pk):
    access_request = _get_request_for(request.user, pk)
    return carry_out(
        request, access_request,
        lambda: services.access_request_withdraw(request=access_request, by=request.user),
        done=f"{access_request.reference} is withdrawn.",
    )


@login_required
@require_POST
@password_recently_entered
def provision(request, pk):
    access_request = _get_request_for(request.user, pk)
    form = ProvisionForm(request.POST, access_request=access_request)
    if form.is_valid():
        before = access_request.status
        try:
            after = services.access_request_provision(request=access_request, by=request.user,
                                                      account_name=form.cleaned_data["account_name"])
        except RuleViolation as refusal:
            if form.error_field(refusal.field) is None:
                messages.error(request, refusal.message)
                return redirect(access_request)
            # A refusal about the account name stays on its field, with the name as typed (JC19a).
            form.add_error(form.error_field(refusal.field), refusal.message)
        else:
            if after.status == before:
                messages.info(request, f"Nothing changed: this is already “{after.get_status_display()}”.")
            else:
                messages.success(request, f"{access_request.reference} is done: the account is recorded.")
            return redirect(access_request)
    return _detail(request, access_request, provision_form=form)


@login_required
@require_POST
def return_to_department(request, pk):
    access_request = _get_request_for(request.user, pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write the reason for returning the request, so the department knows what to fix.")
        return redirect(access_request)
    return carry_out(
        request, access_request,
        lambda: services.access_request_return(request=access_request, reason=form.cleaned_data["reason"],
                                               by=request.user),
        done=f"{access_request.reference} is returned to {access_request.department}.",
    )


@login_required
@require_POST
def attach(request, pk):
    access_request = _get_request_for(request.user, pk)
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a file to upload.")
        return redirect(access_request)
    try:
        document = services.document_attach(request=access_request, upload=form.cleaned_data["document"],
                                            by=request.user)
    except RuleViolation as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, f"“{document.original_name}” is attached to {access_request.reference}.")
    return redirect(access_request)


@login_required
@require_GET
def document(request, pk, document_pk):
    access_request = _get_request_for(request.user, pk)
    supporting = get_object_or_404(SupportingDocument, request=access_request, pk=document_pk)
    try:
        handle = supporting.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file of this document is missing.") from None
    audit_record(actor=request.user, action="access_request.download", target=access_request,
                 detail=f"document {supporting.pk}: {supporting.original_name}")
    # The type detected at upload, and a name that ends as that type does: never opened in the browser.
    return FileResponse(handle, as_attachment=True, filename=supporting.download_name,
                        content_type=supporting.content_type)


@login_required
@require_GET
def queue(request):
    user = request.user
    if not user.roles.is_itsa:
        audit_record(actor=user, action="itsa_queue.view", target="ITSA queue", outcome="denied")
        raise Http404("The queue is ITSA's.")
    q, _, query_string = _list_filters(request, ())
    requests = (
        access_requests_matching(itsa_queue(user), q)
        .select_related(*REQUEST_RELATED, "approved_by", "requested_by")
        .prefetch_related("documents")
    )
    return render(request, "requests/queue.html", {"page_obj": _page(request, requests), "q": q,
                                                   "query_string": query_string})


# --- Status changes (3.5) -----------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def status_change(request, person_pk):
    user = request.user
    person = get_or_404_logged(people_visible_to(user).select_related("department"), user=user, pk=person_pk,
                               what="person")
    if request.method == "POST":
        form = StatusChangeForm(request.POST, person=person)
        if form.is_valid():
            data = form.cleaned_data
            try:
                change = services.status_change_report(person=person, kind=data["kind"],
                                                       effective_date=data["effective_date"], note=data["note"],
                                                       by=user)
            except RuleViolation as refusal:
                form.add_error(form.error_field(refusal.field), refusal.message)
            else:
                queued = change.requests.count()
                work = (
                    f"{queued} grant{'' if queued == 1 else 's'} queued for ITSA to {change.grant_action}."
                    if queued else "No grant needed a new request for ITSA."
                )
                messages.success(request, f"Status change reported for {person}: "
                                          f"{change.get_kind_display().lower()}. {work}")
                return redirect(person)
    else:
        form = StatusChangeForm(person=person)
    return render(request, "requests/status_change.html", {"form": form, "person": person})


# --- Department access (3.4) --------------------------------------------------------------------

@login_required
@require_GET
def department_access_list(request):
    q, status, query_string = _list_filters(request, DepartmentAccess.Status.values)
    accesses = department_access_visible_to(request.user).select_related(
        "department", "system", "requested_by", "decided_by"
    ).prefetch_related("intended_uses")
    if q:
        accesses = accesses.filter(Q(department__name__icontains=q) | Q(system__name__icontains=q))
    if status:
        accesses = accesses.filter(status=status)
    accesses = accesses.annotate(
        pending_first=Case(When(status=DepartmentAccess.Status.PENDING, then=Value(0)), default=Value(1),
                           output_field=IntegerField())
    ).order_by("pending_first", "-requested_at", "-pk")
    return render(request, "requests/department_access_list.html", {
        "page_obj": _page(request, accesses), "q": q, "status": status, "query_string": query_string,
        "statuses": DepartmentAccess.Status.choices,
    })


@login_required
@require_http_methods(["GET", "POST"])
def department_access_new(request):
    user = request.user
    departments = user.roles.headed_departments
    if not departments:
        audit_record(actor=user, action="department_access.new", target="department access", outcome="denied")
        raise Http404("Only department heads ask for department access.")
    if request.method == "POST":
        form = DepartmentAccessForm(request.POST, departments=departments)
        if form.is_valid():
            data = form.cleaned_data
            try:
                access = services.department_access_request(
                    department=data["department"], system=data["system"], intended_uses=data["intended_uses"],
                    business_need=data["business_need"], by=user,
                )
            except RuleViolation as refusal:
                form.add_error(form.error_field(refusal.field), refusal.message)
            else:
                messages.success(request, f"Your request for {access.system} is with the Mayor's designee.")
                return redirect(access)
    else:
        form = DepartmentAccessForm(departments=departments)
    return render(request, "requests/department_access_new.html", {"form": form})


@login_required
@require_GET
def department_access_detail(request, pk):
    user = request.user
    access = _get_department_access_for(user, pk)
    can_decide = access.is_pending and services.may_decide_department_access(access=access, user=user)
    can_revoke = services.may_revoke_department_access(access=access, user=user)
    return render(request, "requests/department_access_detail.html", {
        "access": access,
        "intended_uses": list(access.intended_uses.all()),
        "can_decide": can_decide,
        "decide_form": DecisionForm(choices=DEPARTMENT_ACCESS_DECISIONS) if can_decide else None,
        "revoke_form": ReasonForm(label="Reason for revoking the access") if can_revoke else None,
        "timeline": timeline(access),
    })


department_access_decide = login_required(require_POST(password_recently_entered(decide_view(
    get=_get_department_access_for, choices=DEPARTMENT_ACCESS_DECISIONS,
    decide=lambda access, approve, **decision: services.department_access_decide(access=access, grant=approve, **decision),
    done=lambda access, approve: f"Department access for {access.department} to {access.system} is "
                                 f"{'granted' if approve else 'denied'}.",
))))


@login_required
@require_POST
@password_recently_entered
def department_access_revoke(request, pk):
    user = request.user
    access = _get_department_access_for(user, pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write the reason for revoking the department access.")
        return redirect(access)
    return carry_out(
        request, access,
        lambda: services.department_access_revoke(access=access, reason=form.cleaned_data["reason"], by=user),
        done=lambda after: f"Access for {after.department} to {after.system} is revoked: its grants are with ITSA "
                           f"for removal.",
    )
