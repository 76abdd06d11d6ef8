"""Reads of the audit trail for the audit log page and its export, and of its published anchors."""

from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import AuditAnchor, AuditEvent


def audit_actions() -> list[str]:
    """The actions present in the log, for the search form."""
    return list(AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct())


def _start_of(day: date) -> datetime:
    # Midnight in the portal's time zone, whatever its offset from UTC is on that day.
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_log_entries(*, action: str = "", outcome: str = "", actor: str = "", target: str = "",
                      date_from: date | None = None, date_to: date | None = None) -> QuerySet[AuditEvent]:
    """Audit events matching the search, newest first; dates are local and both ends count."""
    entries = AuditEvent.objects.select_related("actor").order_by("-seq")
    if action:
        entries = entries.filter(action=action)
    if outcome:
        entries = entries.filter(outcome=outcome)
    if actor:
        entries = entries.filter(Q(actor__email__icontains=actor) | Q(actor__full_name__icontains=actor))
    if target:
        entries = entries.filter(target__icontains=target)
    if date_from:
        entries = entries.filter(at__gte=_start_of(date_from))
    if date_to:
        entries = entries.filter(at__lt=_start_of(date_to + timedelta(days=1)))
    return entries


def published_audit_anchors() -> QuerySet:
    """Each day's anchor of the audit trail, newest first: the day, the entry's number and its hash,
    which is all the public sees of the trail (the MAC stays inside)."""
    return AuditAnchor.objects.order_by("-day").values("day", "seq", "hash")
