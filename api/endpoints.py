"""The API's views under /api/v1/. Thin, like the pages: a selector for what the caller may see
(the same as on the pages, as the token's maker or the signed-in person), narrowed to the token's
system; a serializer for the shape; one service call for a change. Every list is read by cursor."""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.urls import Resolver404, resolve, reverse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import ParseError, PermissionDenied
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from access_requests.models import AccessRequest
from access_requests.selectors import access_requests_visible_to
from access_requests.services import access_request_provision, access_request_return
from accounts.last_use import ReportedUse, grant_use_record, parse_used_at
from accounts.models import Grant, SurveillanceSystem
from accounts.selectors import departments_visible_to, grants_visible_to, people_visible_to
from audits.models import ValidationItem
from audits.selectors import validations_visible_to, with_progress
from portal.errors import NotAllowed, RuleViolation
from portal.models import PermissibleUse

from . import serializers as s
from .models import Scope
from .problems import CONTENT_TYPE, problem
from .services import api_call_record

PROBLEM = OpenApiResponse(s.ProblemSerializer, description="Problem details (RFC 9457).")
SLUG = r"[-a-zA-Z0-9_]+"  # a code, as the model's SlugField takes it: anything else is no such object


def _problems(*codes):
    return {(code, CONTENT_TYPE): PROBLEM for code in codes}


ERRORS = _problems(400, 401, 403, 404, 429)
WRITE_ERRORS = _problems(400, 401, 403, 404, 415, 422, 429)


def _token_system(request):
    token = request.auth
    return token.system if token is not None else None


def _text(request, name: str) -> str:
    """A free-text filter of the query string (a code, a reference): the database refuses a NUL."""
    value = request.query_params.get(name, "")
    if "\x00" in value:
        raise serializers.ValidationError({name: ["Remove the NUL character."]})
    return value


def _choice(request, name: str, choices) -> str:
    """A filter of the query string: empty, or one of the choices (else a 400 naming them)."""
    value = request.query_params.get(name, "")
    if value and value not in choices:
        raise serializers.ValidationError({name: [f"Use one of: {', '.join(choices)}."]})
    return value


class _Read:
    # A read view: personal data read is written to the audit trail (`audited` names the action).
    # (A comment, not a docstring: a docstring would be every read call's description in the schema.)

    required_scope = Scope.READ
    audited = ""

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        if self.audited:
            api_call_record(user=request.user, token=request.auth, action=f"api.{self.audited}.list",
                            target=request.get_full_path()[:200],
                            detail=f"{len(response.data.get('results', []))} row(s)")
        return response

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        if self.audited:
            api_call_record(user=request.user, token=request.auth, action=f"api.{self.audited}.view",
                            target=self.object_for_audit)
        return response

    def get_object(self):
        self.object_for_audit = super().get_object()
        return self.object_for_audit


# --- Systems and departments --------------------------------------------------------------------

@extend_schema_view(list=extend_schema(summary="Surveillance systems", responses={200: s.SystemSerializer, **ERRORS}),
                    retrieve=extend_schema(summary="One system", responses={200: s.SystemSerializer, **ERRORS}))
class SystemViewSet(_Read, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.SystemSerializer
    lookup_field = "code"
    lookup_value_regex = SLUG

    def get_queryset(self):
        systems = SurveillanceSystem.objects.select_related("owner")
        if _token_system(self.request) is not None:
            systems = systems.filter(pk=self.request.auth.system_id)
        return systems


@extend_schema_view(list=extend_schema(summary="Departments, boards and commissions",
                                       responses={200: s.DepartmentSerializer, **ERRORS}),
                    retrieve=extend_schema(summary="One department", responses={200: s.DepartmentSerializer,
                                                                                **ERRORS}))
class DepartmentViewSet(_Read, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.DepartmentSerializer
    lookup_field = "code"
    lookup_value_regex = SLUG

    def get_queryset(self):
        departments = departments_visible_to(self.request.user).select_related("head")
        system = _token_system(self.request)
        if system is not None:
            # A system's token reads the departments whose people hold accounts on it.
            departments = departments.filter(pk__in=Grant.objects.filter(system=system).values("department"))
        return departments


# --- People and grants ----------------------------------------------------------------------------

@extend_schema_view(list=extend_schema(summary="People", description="As the people page shows them to the caller.",
                                       parameters=[OpenApiParameter("department", str, description="A department's "
                                                                    "code.")],
                                       responses={200: s.PersonSerializer, **ERRORS}),
                    retrieve=extend_schema(summary="One person", responses={200: s.PersonSerializer, **ERRORS}))
class PersonViewSet(_Read, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.PersonSerializer
    audited = "person"

    def get_queryset(self):
        people = people_visible_to(self.request.user).select_related("department")
        department = _text(self.request, "department")
        if department:
            people = people.filter(department__code=department)
        system = _token_system(self.request)
        if system is not None:
            people = people.filter(grants__system=system).distinct()
        return people


@extend_schema_view(
    list=extend_schema(
        summary="Grants (the roster of a system)",
        parameters=[
            OpenApiParameter("system", str, description="A system's code."),
            OpenApiParameter("department", str, description="A department's code."),
            OpenApiParameter("role", str, enum=Grant.Role.values),
            OpenApiParameter("status", str, enum=Grant.Status.values),
        ],
        responses={200: s.GrantSerializer, **ERRORS}),
    retrieve=extend_schema(summary="One grant", responses={200: s.GrantSerializer, **ERRORS}))
class GrantViewSet(_Read, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.GrantSerializer
    audited = "grant"

    def get_queryset(self):
        request = self.request
        grants = grants_visible_to(request.user).select_related("person", "system", "department").prefetch_related(
            Prefetch("permissible_uses", queryset=PermissibleUse.objects.only("pk", "code")))
        role = _choice(request, "role", Grant.Role.values)
        grant_status = _choice(request, "status", Grant.Status.values)
        if role:
            grants = grants.filter(role=role)
        if grant_status:
            grants = grants.filter(status=grant_status)
        for name, field in (("system", "system__code"), ("department", "department__code")):
            if _text(request, name):
                grants = grants.filter(**{field: request.query_params[name]})
        system = _token_system(request)
        if system is not None:
            grants = grants.filter(system=system)
        return grants


# --- Requests and validations ---------------------------------------------------------------------

@extend_schema_view(
    list=extend_schema(summary="Access requests and their status",
                       parameters=[OpenApiParameter("status", str, enum=AccessRequest.Status.values),
                                   OpenApiParameter("reference", str)],
                       responses={200: s.AccessRequestSerializer, **ERRORS}),
    retrieve=extend_schema(summary="One access request", responses={200: s.AccessRequestSerializer, **ERRORS}))
class AccessRequestViewSet(_Read, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.AccessRequestSerializer
    audited = "access_request"

    def get_queryset(self):
        request = self.request
        requests = access_requests_visible_to(request.user).select_related(
            "person", "system", "department").prefetch_related(
            Prefetch("permissible_uses", queryset=PermissibleUse.objects.only("pk", "code")))
        wanted = _choice(request, "status", AccessRequest.Status.values)
        if wanted:
            requests = requests.filter(status=wanted)
        if _text(request, "reference"):
            requests = requests.filter(reference=request.query_params["reference"])
        system = _token_system(request)
        if system is not None:
            requests = requests.filter(system=system)
        return requests


@extend_schema_view(list=extend_schema(summary="Validations and user audits, with their progress",
                                       responses={200: s.ValidationSerializer, **ERRORS}),
                    retrieve=extend_schema(summary="One validation", responses={200: s.ValidationSerializer,
                                                                                **ERRORS}))
class ValidationViewSet(_Read, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.ValidationSerializer

    def get_queryset(self):
        validations = validations_visible_to(self.request.user).select_related("department", "system")
        system = _token_system(self.request)
        if system is not None:
            # A system's token reads the validations that review accounts on it.
            validations = validations.filter(pk__in=ValidationItem.objects.filter(grant__system=system)
                                             .values("validation"))
        return with_progress(validations)


# --- Changes ------------------------------------------------------------------------------------

class JsonBody(JSONParser):
    """JSON, where a body nested too deep for the decoder is bad input (400), not the server's fault."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("The JSON body is nested too deeply.") from None


class UseReportView(APIView):
    """A system reports when its accounts were last used: a date never moves backwards."""

    required_scope = Scope.REPORT_USE
    parser_classes = [JsonBody]

    @extend_schema(summary="Report when accounts were last used", request=s.UseReportSerializer,
                   responses={200: s.UseResultSerializer, **_problems(400, 401, 403, 404, 415, 429)})
    def post(self, request, code):
        system = get_object_or_404(SurveillanceSystem, code=code)
        bound = _token_system(request)
        if bound is not None and bound.pk != system.pk:
            api_call_record(user=request.user, token=request.auth, action="api.grant_use.report", target=system,
                            outcome="denied", detail="the token is for another system")
            raise PermissionDenied(f"This token reports for {bound.code} only.")
        body = s.UseReportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        uses, errors = [], {}
        for index, use in enumerate(body.validated_data["uses"]):
            try:
                uses.append(ReportedUse(system.code, use["account_name"], parse_used_at(use["last_used_at"]),
                                        line=index))
            except ValueError as error:
                errors[f"uses[{index}].last_used_at"] = [str(error)]
        if errors:
            raise serializers.ValidationError(errors)
        report = grant_use_record(uses=uses)
        api_call_record(user=request.user, token=request.auth, action="api.grant_use.report", target=system,
                        detail=f"{len(uses)} reported: {report.updated} updated, {report.not_newer} not newer, "
                               f"{len(report.unknown)} unknown")
        return Response({"updated": report.updated, "not_newer": report.not_newer,
                         "unknown": [{"account_name": use.account_name, "reason": why} for use, why in report.unknown]})


class _QueueChange(APIView):
    required_scope = Scope.PROVISION
    parser_classes = [JsonBody]
    action = ""

    def _request(self, pk):
        found = access_requests_visible_to(self.request.user).select_related("system", "department", "person")
        request = get_object_or_404(found, pk=pk)
        bound = _token_system(self.request)
        if bound is not None and bound.pk != request.system_id:
            api_call_record(user=self.request.user, token=self.request.auth, action=self.action, target=request,
                            outcome="denied", detail="the token is for another system")
            raise PermissionDenied(f"This token acts on {bound.code} only.")
        return request

    def _change(self, access_request, change, **kwargs):
        """The service's change, with the call in the audit trail naming the token, refused or done."""
        try:
            done = change(request=access_request, by=self.request.user, **kwargs)
        except RuleViolation as refusal:
            api_call_record(user=self.request.user, token=self.request.auth, action=self.action,
                            target=access_request, outcome="denied" if isinstance(refusal, NotAllowed) else "refused",
                            detail=refusal.message)
            raise
        api_call_record(user=self.request.user, token=self.request.auth, action=self.action, target=done)
        return Response(s.AccessRequestSerializer(done).data, status=status.HTTP_200_OK)


class ProvisionView(_QueueChange):
    """ITSA marks an approved request provisioned, with the page's checks (separation of duties,
    maker-checker) in the same service."""

    action = "api.access_request.provision"

    @extend_schema(summary="Mark a request provisioned", request=s.ProvisionSerializer,
                   responses={200: s.AccessRequestSerializer, **WRITE_ERRORS})
    def post(self, request, pk):
        access_request = self._request(pk)
        body = s.ProvisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._change(access_request, access_request_provision,
                            account_name=body.validated_data.get("account_name", ""))


class ReturnView(_QueueChange):
    action = "api.access_request.return"

    @extend_schema(summary="Return a request to its department", request=s.ReturnSerializer,
                   responses={200: s.AccessRequestSerializer, **WRITE_ERRORS})
    def post(self, request, pk):
        access_request = self._request(pk)
        body = s.ReturnSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._change(access_request, access_request_return, reason=body.validated_data["reason"])


@csrf_exempt
def not_found(request, *args, **kwargs):
    """Any other URL under the API: a 404 problem, not the pages' HTML, whatever the method."""
    detail = f"There is no API URL {request.path}: {reverse('api:schema')} lists them."
    try:
        if resolve(request.path + "/").url_name != "not_found":
            detail = f"There is no API URL {request.path}: did you mean {request.path}/ (with a slash at the end)?"
    except Resolver404:
        pass
    return problem(404, detail, kind="not_found", instance=request.get_full_path())
