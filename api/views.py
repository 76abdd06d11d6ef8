"""The pages around the API: ITSA's token page (make, list, revoke) and the API's documentation.
Thin: a selector for what the reader may see, the form for the shape, one service call."""

import functools
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.selectors import get_or_404_logged
from portal.audit import audit_record
from portal.errors import RuleViolation
from security.decorators import password_recently_entered

from . import selectors, services
from .forms import ApiTokenForm
from .models import Scope


def token_keeper_only(view):
    """ITSA's pages: for anyone else there is no such page (404), and the attempt is recorded. Asked
    before the password, so that nobody else learns the page is there."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.roles.is_itsa:
            audit_record(actor=request.user, action="api_token.view", target="API token page", outcome="denied")
            raise Http404("No page here.")
        return view(request, *args, **kwargs)

    return wrapped


def _token_page(request, form, *, made=None, secret="", status=200):
    return render(request, "api/tokens.html", {
        "form": form, "made": made, "secret": secret,
        "tokens": selectors.tokens_visible_to(request.user),
    }, status=status)


@login_required
@require_GET
@token_keeper_only
def token_list(request):
    return _token_page(request, ApiTokenForm())


@login_required
@require_POST
@token_keeper_only
@password_recently_entered
@never_cache
def token_new(request):
    """Make a token. Its secret is in this response only: never stored, never in a message or a
    redirect, so it cannot come back from a cache, the history or another page."""
    user = request.user
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            token, secret = services.token_create(name=data["name"], scopes=data["scopes"],
                                                  expires_on=data["expires_on"], system=data["system"], by=user)
        except RuleViolation as refusal:
            form.add_error(form.error_field(refusal.field), refusal.message)
        else:
            return _token_page(request, ApiTokenForm(), made=token, secret=secret)
    return _token_page(request, form)


@login_required
@require_POST
@token_keeper_only
@password_recently_entered
def token_revoke(request, pk):
    user = request.user
    token = get_or_404_logged(selectors.tokens_visible_to(user), user=user, pk=pk, what="api_token")
    services.token_revoke(token=token, by=user)
    messages.success(request, f"The token “{token.name}” is revoked: calls with it are refused from now on.")
    return redirect(token)


# --- The documentation ----------------------------------------------------------------------------

PARAMETER = re.compile(r"\{[^}]+\}")


def _scope_of(path: str, method: str) -> str:
    """The scope a call needs, as its view names it (`required_scope`); reads need `read`."""
    try:
        match = resolve(PARAMETER.sub("1", path))
    except Resolver404:
        return Scope.READ
    view = getattr(match.func, "cls", None)
    return getattr(view, "required_scope", Scope.READ) if method != "get" else Scope.READ


def _resolve(schema: dict, spec: dict) -> dict:
    ref = schema.get("$ref") or next((part["$ref"] for part in schema.get("allOf", []) if "$ref" in part), None)
    if ref is None:
        return schema
    found = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return {**found, **{key: value for key, value in schema.items() if key not in ("$ref", "allOf")}}


def _type_of(schema: dict, spec: dict) -> str:
    schema = _resolve(schema, spec)
    if "enum" in schema:
        return "one of " + ", ".join(str(value) for value in schema["enum"] if value is not None)
    kinds = schema.get("type", "object")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    if schema.get("nullable"):
        kinds.append("null")
    if "array" in kinds:
        kinds[kinds.index("array")] = f"list of {_type_of(schema.get('items', {}), spec)}"
    if schema.get("format") and "string" in kinds:
        kinds[kinds.index("string")] = f"string ({schema['format']})"
    return " or ".join(kinds)


def _fields(schema: dict, spec: dict, prefix: str = "", writing: bool = False) -> list[dict]:
    """The fields of an object, a list of objects' fields as `name[].field`."""
    schema = _resolve(schema, spec)
    required = set(schema.get("required", []))
    rows = []
    for name, field in schema.get("properties", {}).items():
        if writing and field.get("readOnly"):
            continue
        resolved = _resolve(field, spec)
        items = _resolve(resolved.get("items", {}), spec) if resolved.get("type") == "array" else {}
        rows.append({"name": prefix + name, "type": _type_of(field, spec), "required": name in required,
                     # An enum's own description only repeats the values the type names.
                     "description": field.get("description") or field.get("title")
                     or ("" if "enum" in resolved else resolved.get("description", ""))})
        if items.get("properties"):
            rows += _fields(items, spec, prefix=f"{prefix}{name}[].", writing=writing)
    return rows


def _body_schema(part: dict) -> dict:
    content = part.get("content", {})
    return next(iter(content.values()), {}).get("schema", {})


def _operation(path: str, method: str, operation: dict, spec: dict) -> dict:
    answer = _resolve(_body_schema(operation["responses"].get("200", {})), spec)
    paginated = "results" in answer.get("properties", {})
    if paginated:
        answer = answer["properties"]["results"].get("items", {})
    return {
        "id": operation["operationId"], "method": method.upper(), "path": path,
        "summary": operation.get("summary", ""), "description": operation.get("description", ""),
        "scope": Scope(_scope_of(path, method)),
        "path_parameters": [p for p in operation.get("parameters", []) if p["in"] == "path"],
        "query_parameters": [{**p, "type": _type_of(p.get("schema", {}), spec)}
                             for p in operation.get("parameters", []) if p["in"] == "query"],
        "request_fields": _fields(_body_schema(operation.get("requestBody", {})), spec, writing=True),
        "response_fields": _fields(answer, spec), "paginated": paginated,
        "errors": sorted(code for code in operation["responses"] if code != "200"),
    }


@functools.cache
def api_reference() -> dict:
    """The API's schema, generated in this process as /api/v1/schema/ serves it, arranged for the page.
    It changes only with the code, so it is made once per process."""
    from drf_spectacular.generators import SchemaGenerator

    spec = SchemaGenerator().get_schema(request=None, public=True)
    groups: dict[str, list] = {}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            tag = (operation.get("tags") or ["other"])[0]
            groups.setdefault(tag, []).append(_operation(path, method, operation, spec))
    return {"info": spec["info"], "openapi": spec["openapi"], "groups": sorted(groups.items())}


@login_required
@require_GET
def api_docs(request):
    return render(request, "api/docs.html", {
        "reference": api_reference(), "scopes": Scope.choices,
        "may_make_tokens": request.user.roles.is_itsa,
        "base": request.build_absolute_uri("/api/v1/").rstrip("/"),
    })
