"""The one way to write to the audit trail."""

import contextvars
import logging

from .models import AuditEvent

security_log = logging.getLogger("portal.security")
_client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_ip", default=None)


class ClientAddressMiddleware:
    """Remembers where the current request comes from, so services can record it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _client_ip.set(request.META.get("REMOTE_ADDR") or None)
        try:
            return self.get_response(request)
        finally:
            _client_ip.reset(token)


def audit_record(*, actor, action: str, target: object = "", outcome: str = AuditEvent.Outcome.SUCCESS,
                 detail: str = "") -> AuditEvent:
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    event = AuditEvent.objects.create(
        actor=actor,
        action=action,
        outcome=outcome,
        target=str(target)[:200],
        ip_address=_client_ip.get(),
        detail=detail,
    )
    if outcome != AuditEvent.Outcome.SUCCESS:
        security_log.warning("%s %s by %s: %s", action, target, actor, outcome)
    return event
