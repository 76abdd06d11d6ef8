"""The one way to write to the audit trail.

A refusal rolls the service's transaction back, and the audit event of a denied or refused attempt
would go with it: `audit_refusal` keeps such events aside and `service_transaction` writes them
once the rollback is done, so the trail shows every attempt.
"""

import contextvars
import functools
import logging

from django.db import transaction

from .errors import RuleViolation
from .models import AuditEvent

security_log = logging.getLogger("portal.security")
_client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_ip", default=None)
_acting_user: contextvars.ContextVar[object | None] = contextvars.ContextVar("acting_user", default=None)


def acting_user():
    """The person on whose behalf the current service call runs (its `by`), if any."""
    return _acting_user.get()


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


_refusals: contextvars.ContextVar[list[dict] | None] = contextvars.ContextVar("refusals", default=None)


def audit_refusal(*, actor, action: str, target: object = "", outcome: str = "denied", detail: str = "") -> None:
    """Record a denied or refused attempt; inside a service transaction, after its rollback."""
    event = {"actor": actor, "action": action, "target": target, "outcome": outcome, "detail": detail}
    pending = _refusals.get()
    if pending is None:
        audit_record(**event)
    else:
        pending.append(event)


def service_transaction(func):
    """`transaction.atomic` for a service function that keeps the audit events of its refusals."""
    atomic = transaction.atomic(func)

    @functools.wraps(func)
    def run(*args, **kwargs):
        # History rows name the person who acted, in a command or a task as much as in a page.
        acting = _acting_user.set(kwargs.get("by", _acting_user.get()))
        try:
            return _run(*args, **kwargs)
        finally:
            _acting_user.reset(acting)

    def _run(*args, **kwargs):
        if _refusals.get() is not None:  # called by another service: the outermost one writes them
            return atomic(*args, **kwargs)
        pending: list[dict] = []
        token = _refusals.set(pending)
        try:
            result = atomic(*args, **kwargs)
        except RuleViolation:
            # The change is rolled back by now; the record of the attempt must outlive it.
            for event in pending:
                audit_record(**event)
            raise
        finally:
            _refusals.reset(token)
        for event in pending:
            audit_record(**event)
        return result

    return run
