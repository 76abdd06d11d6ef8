"""When each account was last used, as the systems report it: `grant_use_record` keeps the latest
date. The nightly grant check (access_requests.hygiene) counts an account unused from it."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone

from portal.audit import audit_record, service_transaction

from .models import Grant, SurveillanceSystem


# A system's clock may run a little ahead of ours; a date further ahead is a mistake.
CLOCK_SLACK = timedelta(minutes=5)
# A date before this is a system's clock reset, not a use; one before year 1 in UTC could not be read back.
EARLIEST_USE = datetime(1970, 1, 1, tzinfo=UTC)


def parse_used_at(text: str) -> datetime:
    """An ISO date (the start of that day in the city) or date and time (the city's time when it
    names no zone)."""
    text = text.strip()
    try:
        value = timezone.make_aware(datetime.combine(date.fromisoformat(text), time.min))
    except ValueError:
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"“{text}” is not a date (2026-03-01) or a date and time (2026-03-01T14:05:00, "
                "with or without a zone such as +00:00)."
            ) from None
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
    if value > timezone.now() + CLOCK_SLACK:
        raise ValueError(f"“{text}” is in the future.")
    if value < EARLIEST_USE:
        raise ValueError(f"“{text}” is before {EARLIEST_USE:%Y}: check the system's clock.")
    return value


@dataclass(frozen=True)
class ReportedUse:
    """A system says an account was last used at `used_at`; `line` says where the report said so."""

    system_code: str
    account_name: str
    used_at: datetime
    line: int = 0


@dataclass
class UseReport:
    updated: int = 0
    not_newer: int = 0
    unknown: list[tuple[ReportedUse, str]] = field(default_factory=list)


@service_transaction
def grant_use_record(*, uses: Iterable[ReportedUse]) -> UseReport:
    """Keep the latest reported use of each live grant's account; a use older than the one on
    record changes nothing. Account names match whatever their case."""
    uses = list(uses)
    codes = {use.system_code for use in uses}
    known_systems = set(SurveillanceSystem.objects.filter(code__in=codes).values_list("code", flat=True))
    grants: dict[tuple[str, str], list[int]] = {}
    live = Grant.objects.filter(status__in=Grant.LIVE_STATUSES, system__code__in=codes)
    for pk, code, account_name in live.values_list("pk", "system__code", "account_name"):
        grants.setdefault((code, account_name.strip().casefold()), []).append(pk)
    report = UseReport()
    for use in uses:
        pks = grants.get((use.system_code, use.account_name.strip().casefold()))
        if pks is None:
            why = ("no live grant with this account name on the system" if use.system_code in known_systems
                   else "no system with this code")
            report.unknown.append((use, why))
            continue
        # The database compares, so two reports at once still never move the date backwards.
        moved = Grant.objects.filter(pk__in=pks).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=use.used_at)
        ).update(last_used_at=use.used_at)
        if moved:
            report.updated += 1
        else:
            report.not_newer += 1
    audit_record(actor=None, action="grant.use_recorded", target="last use of accounts",
                 detail=f"{len(uses)} reported: {report.updated} updated, {report.not_newer} not newer, "
                        f"{len(report.unknown)} unknown")
    return report
