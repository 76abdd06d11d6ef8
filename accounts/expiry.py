"""Temporary access (Definitions: "Temporary" is less than thirty days), the one home of its timing.

A temporary grant carries `ends_on`: the access ends at 00:00, city time (settings.TIME_ZONE), on
that day. `temporary_grants_daily` runs from the schedule and does, for each live temporary grant:

- a week before (7 days or fewer left, 2 at least): warn the person and the department head, once;
- the day before (1 day left): warn them again, once;
- from 00:00 on `ends_on`: remove the grant, record it in the audit trail, and ask ITSA to close the
  account on the system (ITSA creates and manages the accounts, S3.5b).

Grants under an information sharing agreement also end on a date; their end follows the agreement
and is handled with it, not here. Each grant is handled in its own transaction: one grant's failure
is logged and the others go on; the next run tries it again. Running twice does nothing twice.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from portal.audit import audit_record, service_transaction
from portal.emails import email_send

from .models import ITSA_GROUP, Grant
from .selectors import emails_of
from .services import grant_set_status

logger = logging.getLogger(__name__)

# The warnings: a week before the end, and the day before.
WARN_WEEK_DAYS = 7
WARN_DAY_DAYS = 1

# What the grant's history names as having removed it, when nobody did.
ENDED_REASON = "temporary access ended"


def ends_at(ends_on: date) -> datetime:
    """The instant a temporary grant ends: 00:00, city time, on its end date."""
    return timezone.make_aware(datetime.combine(ends_on, time.min), timezone.get_default_timezone())


def city_today(now: datetime) -> date:
    return timezone.localtime(now, timezone.get_default_timezone()).date()


def temporary_grants() -> QuerySet[Grant]:
    """Live grants with an end date that rest on no sharing agreement: those that are not view-only,
    as exactly the grants under an agreement are."""
    return Grant.objects.filter(status__in=Grant.LIVE_STATUSES, ends_on__isnull=False, view_only=False)


@dataclass
class ExpiryRun:
    warned_week: list[int] = field(default_factory=list)
    warned_day: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"warned_week": len(self.warned_week), "warned_day": len(self.warned_day),
                "removed": len(self.removed), "failed": len(self.failed)}


def temporary_grants_daily(*, now: datetime | None = None) -> ExpiryRun:
    """Warn before the end and remove at the end (Def.T); see the module docstring. Idempotent."""
    now = now or timezone.now()
    today = city_today(now)
    run = ExpiryRun()
    due = temporary_grants().filter(ends_on__lte=today + timedelta(days=WARN_WEEK_DAYS)).order_by("ends_on", "pk")
    for pk in list(due.values_list("pk", flat=True)):
        try:
            outcome = temporary_grant_check(grant_pk=pk, now=now)
        except Exception:
            logger.exception("Temporary grant %s could not be handled; the next run tries again.", pk)
            run.failed.append(pk)
            continue
        if outcome is not None:
            getattr(run, outcome).append(pk)
    return run


@service_transaction
def temporary_grant_check(*, grant_pk: int, now: datetime) -> str | None:
    """One temporary grant at `now`: remove it, warn about it, or nothing. Returns what was done
    ("removed", "warned_day", "warned_week") or None."""
    grant = (
        temporary_grants().select_for_update(of=("self",)).select_related("person", "system", "department__head")
        .filter(pk=grant_pk).first()
    )
    if grant is None:  # removed meanwhile, or no longer temporary
        return None
    if now >= ends_at(grant.ends_on):
        return _remove(grant, now=now)
    if grant.status != Grant.Status.ACTIVE:  # a suspended grant is not in use: no warning, removed all the same
        return None
    days_left = (grant.ends_on - city_today(now)).days
    if days_left <= WARN_DAY_DAYS:
        return "warned_day" if _warn(grant, marker="warned_day_at", days_left=days_left, now=now) else None
    if days_left <= WARN_WEEK_DAYS:
        return "warned_week" if _warn(grant, marker="warned_week_at", days_left=days_left, now=now) else None
    return None


def _warn(grant: Grant, *, marker: str, days_left: int, now: datetime) -> bool:
    # The claim is the guard: a second run finds the warning already marked and sends nothing.
    claimed = Grant.objects.filter(pk=grant.pk, **{f"{marker}__isnull": True}).update(**{marker: now})
    if not claimed:
        return False
    head = grant.department.head
    to = [grant.person.email] + ([head.email] if head is not None and head.is_active else [])
    audit_record(actor=None, action="grant.temporary_warning", target=grant,
                 detail=f"grant {grant.pk}: {days_left} day{'s' if days_left != 1 else ''} left, "
                        f"ends at 00:00 on {grant.ends_on:%Y-%m-%d}")
    email_send("temporary-ending", to=to, context={"grant": grant, "days_left": days_left})
    return True


def _remove(grant: Grant, *, now: datetime) -> str:
    grant_set_status(grant=grant, status=Grant.Status.REMOVED, by=None, reason=ENDED_REASON)
    audit_record(actor=None, action="grant.temporary_ended", target=grant,
                 detail=f"grant {grant.pk}: temporary access ended at 00:00 on {grant.ends_on:%Y-%m-%d}; "
                        f"ITSA asked to close account {grant.account_name} on {grant.system}")
    email_send("temporary-ended", to=emails_of(ITSA_GROUP), context={"grant": grant})
    return "removed"
