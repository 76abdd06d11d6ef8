"""Errors as problem details (RFC 9457): `application/problem+json` with a type, a title, the
status, a plain `detail` and, for a refused field, `errors` by field. Never a 500 on bad input."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.views import exception_handler

from portal.errors import NotAllowed, RuleViolation

PROBLEM_TYPES = "https://portal.invalid/problems/"
CONTENT_TYPE = "application/problem+json"

TITLES = {
    400: "Bad request", 401: "Not signed in", 403: "Not allowed", 404: "Not found", 405: "Method not allowed",
    406: "Not acceptable", 409: "Refused by a rule", 413: "Too large", 415: "Unsupported media type",
    422: "Refused by a rule", 429: "Too many calls",
}


def problem(status_code: int, detail: str, *, kind: str = "", errors: dict | None = None, instance: str = "",
            headers: dict | None = None) -> JsonResponse:
    body = {"type": PROBLEM_TYPES + (kind or str(status_code)), "title": TITLES.get(status_code, "Error"),
            "status": status_code, "detail": detail}
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    response = JsonResponse(body, status=status_code, content_type=CONTENT_TYPE)
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def _flatten(detail, field: str = "") -> dict[str, list[str]]:
    """A serializer's errors by field, nested fields and list items named as in the body
    (`uses[3].account_name`), so that each message says where it belongs."""
    errors: dict[str, list[str]] = {}

    def walk(value, name):
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{name}[{key}]" if isinstance(key, int) else f"{name}.{key}" if name else str(key))
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(inner, f"{name}[{index}]" if isinstance(inner, dict | list) else name)
        else:
            errors.setdefault(name or "non_field_errors", []).append(str(value))

    walk(detail, field)
    return errors


def _first(errors: dict[str, list[str]]) -> str:
    """The first refused field and why, for `detail`."""
    name, messages = next(iter(errors.items()))
    more = sum(len(found) for found in errors.values()) - 1
    where = "" if name == "non_field_errors" else f"{name}: "
    return f"{where}{messages[0]}" + (f" ({more} more in `errors`)" if more else "")


def problem_exception_handler(exc, context):
    request = context.get("request")
    instance = request.get_full_path() if request is not None else ""
    if isinstance(exc, NotAllowed):
        return problem(403, exc.message, kind="not-allowed", instance=instance)
    if isinstance(exc, RuleViolation):
        errors = {exc.field: [exc.message]} if exc.field else None
        return problem(422, exc.message, kind="rule", errors=errors, instance=instance)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None  # not an API error: the server's own 500 page, and the log
    headers = {key: value for key, value in response.items() if key in ("WWW-Authenticate", "Retry-After", "Allow")}
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail) or {"non_field_errors": ["The request is not valid."]}
        return problem(400, f"The request is not valid: {_first(errors)}", kind="invalid", errors=errors,
                       instance=instance, headers=headers)
    detail = exc.detail if isinstance(exc.detail, str) else " ".join(str(d) for d in _flatten(exc.detail).get(
        "non_field_errors", [])) or str(exc.detail)
    code = response.status_code
    if code == status.HTTP_401_UNAUTHORIZED and "WWW-Authenticate" not in headers:
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return problem(code, str(detail), kind=getattr(exc, "default_code", "") or str(code), instance=instance,
                   headers=headers)
