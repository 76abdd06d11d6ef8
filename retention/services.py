"""Retention extensions (S3.11) and the biometric flag (S3.12): services and selectors.

Surveillance data is kept 30 days. The Director of Public Safety may extend that to at most 90 days
for named systems (all their devices, or those of an area), citing one of the three conditions of
3.11. Somebody else asks: a department head whose department holds department access to each named
system, or ITSA. An extension runs from `starts_on` until 00:00, city time, on `ends_on`, and comes
up for review on `review_on`. Biometric data (3.12) is kept only for the minimum period of its use:
an extension may name a biometric system, but it covers that system's surveillance data only.

Every function: lock the row, check who may act, return early when it is already in the target
state, check the rule, write the change (history records it) and the audit event, and send mail
only after commit. Refused attempts are recorded with `audit_refusal`.
"""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from accounts.models import ITSA_GROUP, SAFETY_DIRECTOR_GROUP, User
from access_requests.services import department_is_authorized
from portal.audit import audit_record, audit_refusal, service_transaction
from portal.decisions import decision_open, decision_record, refuse_decider
from portal.emails import email_send
from portal.errors import NotAllowed, RuleViolation
from portal.text import clean_text

from .models import RetentionExtension
from .selectors import biometric_exclusion


Status = RetentionExtension.Status


Condition = RetentionExtension.Condition


DEFAULT_DAYS = RetentionExtension.DEFAULT_DAYS


EXTENDED_DAYS = RetentionExtension.EXTENDED_DAYS


# An extension lasts at most a year; the Director reviews it before it ends.
MAX_LENGTH_DAYS = 365


# The conditions of 3.11, in the order's words.
CONDITION_TEXT = {
    Condition.HIGH_CRIME: "The data covers an area where there is a high rate of crime.",
    Condition.SAME_CRIMES: "The data covers an area where the same crime/s continuously occur.",
    Condition.SAME_PERPETRATORS: "The data covers an area where there is a reasonable suspicion that crimes are "
                                 "being committed by the same perpetrator/s.",
}


def _midnight(day: date) -> datetime:
    """00:00, city time, on `day`."""
    return timezone.make_aware(datetime.combine(day, time.min))


def _safety_directors() -> list[User]:
    return list(User.objects.filter(groups__name=SAFETY_DIRECTOR_GROUP, is_active=True).distinct())


def _itsa() -> list[User]:
    return list(User.objects.filter(groups__name=ITSA_GROUP, is_active=True).distinct())


def _emails(*groups, leave_out: User | None = None) -> list[str]:
    return [person.email for group in groups for person in group if leave_out is None or person.pk != leave_out.pk]


def may_request(user: User) -> bool:
    """A department head or ITSA asks for an extension (S3.11)."""
    return user.is_authenticated and (user.roles.is_itsa or user.roles.is_head)


def may_decide(*, extension: RetentionExtension, user: User) -> bool:
    """Only the Director of Public Safety decides (S3.11), never on a request they made."""
    return (extension.status == Status.REQUESTED and user.is_authenticated and user.roles.is_safety_director
            and not extension.is_asked_by(user))


def may_end(*, extension: RetentionExtension, user: User) -> bool:
    """The Director of Public Safety ends a granted extension early, unless they asked for it."""
    return (extension.status == Status.GRANTED and user.is_authenticated and user.roles.is_safety_director
            and not extension.is_asked_by(user))


def _check_dates(*, starts_on, ends_on, review_on, today: date) -> None:
    if not isinstance(starts_on, date):
        raise RuleViolation("Give the day the extension starts.", field="starts_on")
    if not isinstance(ends_on, date):
        raise RuleViolation("Give the day the extension ends.", field="ends_on")
    if not isinstance(review_on, date):
        raise RuleViolation("Give the day the Director of Public Safety reviews the extension.", field="review_on")
    if starts_on < today:
        raise RuleViolation("An extension cannot start in the past: data older than 30 days is already gone.",
                            field="starts_on")
    if ends_on <= starts_on:
        raise RuleViolation("The end date must come after the start date.", field="ends_on")
    if (ends_on - starts_on).days > MAX_LENGTH_DAYS:
        raise RuleViolation(f"An extension lasts at most {MAX_LENGTH_DAYS} days: ask again when it ends.",
                            field="ends_on")
    if review_on < starts_on or review_on >= ends_on:
        raise RuleViolation("The review date must fall on or after the start date and before the end date.",
                            field="review_on")


@service_transaction
def retention_extension_request(
    *, systems, condition: str, justification: str, starts_on: date, ends_on: date, review_on: date, by: User,
    area: str = "", retention_days: int = EXTENDED_DAYS, today: date | None = None,
) -> RetentionExtension:
    """A department head or ITSA asks the Director of Public Safety to keep the data of named
    systems (or an area of them) longer than 30 days, citing a condition of 3.11 (S3.11)."""
    today = today or timezone.localdate()
    if not may_request(by):
        audit_refusal(actor=by, action="retention_extension.request", target="retention extension")
        raise NotAllowed("Only a department head or ITSA can ask for a retention extension.")
    systems = list(systems or [])
    if not systems:
        raise RuleViolation("Name at least one surveillance system.", field="systems")
    if not by.roles.is_itsa:
        departments = by.roles.headed_departments
        for system in systems:
            if not any(department_is_authorized(department=d, system=system) for d in departments):
                audit_refusal(actor=by, action="retention_extension.request", target=system)
                raise NotAllowed(f"Your department holds no department access to {system}: only ITSA or the head "
                                 f"of a department that uses it can ask for its retention to be extended.",
                                 field="systems")
    if condition not in Condition.values:
        raise RuleViolation("Cite the condition of Section 3.11 the extension rests on: (a), (b) or (c).",
                            field="condition")
    justification = clean_text(justification, field="justification", label="justification")
    area = clean_text(area, field="area", label="area", required=False)
    try:
        retention_days = int(retention_days)
    except (TypeError, ValueError):
        raise RuleViolation("Give the retention in days.", field="retention_days") from None
    if not DEFAULT_DAYS < retention_days <= EXTENDED_DAYS:
        raise RuleViolation(f"An extension keeps data longer than {DEFAULT_DAYS} days and at most {EXTENDED_DAYS} "
                            f"days (Section 3.11).", field="retention_days")
    _check_dates(starts_on=starts_on, ends_on=ends_on, review_on=review_on, today=today)

    extension = RetentionExtension(
        condition=condition, justification=justification, area=area, retention_days=retention_days,
        starts_on=starts_on, ends_on=ends_on, review_on=review_on, requested_by=by,
    )
    extension._change_reason = "Asked for"
    extension.save()
    extension._change_reason = "Systems named"
    extension.systems.set(systems)
    audit_record(actor=by, action="retention_extension.request", target=extension, detail=_detail(extension, systems))
    email_send("retention-requested", to=_emails(_safety_directors(), leave_out=by),
               context=_mail_context(extension, systems))
    return extension


def _detail(extension: RetentionExtension, systems, *extra: str) -> str:
    parts = [
        f"condition ({extension.condition}); {extension.retention_days} days; "
        f"{extension.starts_on:%Y-%m-%d} to {extension.ends_on:%Y-%m-%d}; review {extension.review_on:%Y-%m-%d}; "
        f"systems: {', '.join(sorted(str(s) for s in systems))}",
        *extra,
    ]
    biometric = [str(s) for s in systems if s.uses_biometrics]
    if biometric:
        parts.append(f"S3.12: does not cover the biometric data of {', '.join(sorted(biometric))}")
    return "; ".join(part for part in parts if part)


def _mail_context(extension: RetentionExtension, systems=None) -> dict:
    systems = list(extension.systems.all()) if systems is None else list(systems)
    return {
        "extension": extension,
        "systems": ", ".join(sorted(str(s) for s in systems)),
        "condition_text": CONDITION_TEXT[extension.condition],
        "biometric_note": biometric_exclusion(systems),
    }


def _director_refusals(by: User, what: str) -> dict:
    """What `refuse_decider` needs to refuse anyone but a Director of Public Safety who did not ask."""
    return {
        "may_decide": by.roles.is_safety_director, "detail": "own request",
        "not_allowed": f"Only the Director of Public Safety can {what} a retention extension (Section 3.11).",
        "asked": f"You asked for this extension, so another Director of Public Safety must {what} it.",
    }


@service_transaction
def retention_extension_decide(
    *, extension: RetentionExtension, grant: bool, reason: str, by: User, today: date | None = None,
) -> RetentionExtension:
    """The Director of Public Safety grants or denies an extension, with a reason (S3.11)."""
    today = today or timezone.localdate()
    extension = RetentionExtension.objects.select_for_update().get(pk=extension.pk)
    target = Status.GRANTED if grant else Status.DENIED
    reason = decision_open(
        extension, by=by, reason=reason, outcomes=(target,), pending=Status.REQUESTED, what="extension",
        action="retention_extension.decide", **_director_refusals(by, "grant or deny"),
    )
    if reason is None:
        return extension
    if grant and extension.ends_on <= today:
        raise RuleViolation("The extension's end date has passed: it can only be denied. Ask for a new one.")
    systems = list(extension.systems.all())
    decision_record(extension, status=target, reason=reason, by=by, action=f"retention_extension.{target}",
                    detail=_detail(extension, systems), change_reason="Granted" if grant else "Denied")
    # ITSA sets the retention on the systems: they hear of a grant too.
    to = [extension.requested_by.email] + (_emails(_itsa()) if grant else [])
    email_send("retention-decided", to=to, context=_mail_context(extension, systems))
    return extension


@service_transaction
def retention_extension_end(*, extension: RetentionExtension, reason: str, by: User) -> RetentionExtension:
    """The Director of Public Safety ends a granted extension before its end date, with a reason:
    the systems go back to 30 days (S3.11)."""
    extension = RetentionExtension.objects.select_for_update().get(pk=extension.pk)
    refuse_decider(extension, by=by, action="retention_extension.end", **_director_refusals(by, "end"))
    if extension.status == Status.EXPIRED:
        return extension
    if extension.status != Status.GRANTED:
        raise RuleViolation("Only a granted extension can be ended.")
    reason = clean_text(reason, field="reason", label="reason for ending the extension")
    now = timezone.now()
    extension.status = Status.EXPIRED
    extension.ended_at, extension.ended_by, extension.end_reason = now, by, reason
    extension._change_reason = "Ended early"
    extension.save()
    systems = list(extension.systems.all())
    audit_record(actor=by, action="retention_extension.end", target=extension,
                 detail=_detail(extension, systems, f"reason: {reason}"))
    email_send("retention-ended", to=_ended_recipients(extension),
               context={**_mail_context(extension, systems), "early": True, "reason": reason, "ended_by": by})
    return extension


def _ended_recipients(extension: RetentionExtension) -> list[str]:
    return [extension.requested_by.email] + _emails(_safety_directors(), _itsa())


@service_transaction
def _retention_expire(*, pk: int, today: date) -> bool:
    extension = RetentionExtension.objects.select_for_update().get(pk=pk)
    if extension.status != Status.GRANTED or extension.ends_on > today:
        return False
    extension.status = Status.EXPIRED
    extension.ended_at = _midnight(extension.ends_on)
    extension._change_reason = "Ended on its end date"
    extension.save()
    systems = list(extension.systems.all())
    audit_record(actor=None, action="retention_extension.expire", target=extension, detail=_detail(extension, systems))
    email_send("retention-ended", to=_ended_recipients(extension),
               context={**_mail_context(extension, systems), "early": False})
    return True


@service_transaction
def _retention_review_notice(*, pk: int, today: date) -> bool:
    extension = RetentionExtension.objects.select_for_update().get(pk=pk)
    if (extension.status != Status.GRANTED or extension.review_notice_sent_at is not None
            or extension.review_on > today or extension.ends_on <= today):
        return False
    extension.review_notice_sent_at = timezone.now()
    # The notice's time is not part of the record's history (the model leaves it out).
    extension.save_without_historical_record(update_fields=["review_notice_sent_at"])
    audit_record(actor=None, action="retention_extension.review_due", target=extension)
    email_send("retention-review-due", to=_emails(_safety_directors()), context=_mail_context(extension))
    return True


def retention_daily(*, today: date | None = None) -> dict:
    """Run hourly, idempotent: granted extensions whose end date has come end by themselves (at 00:00,
    city time, on `ends_on`), and the Director of Public Safety hears once, on `review_on`, that a
    granted extension is due for review. Returns how many of each."""
    today = today or timezone.localdate()
    due = RetentionExtension.objects.filter(status=Status.GRANTED, ends_on__lte=today).order_by("pk")
    ended = sum(_retention_expire(pk=pk, today=today) for pk in due.values_list("pk", flat=True))
    to_review = RetentionExtension.objects.filter(
        status=Status.GRANTED, review_on__lte=today, ends_on__gt=today, review_notice_sent_at__isnull=True,
    ).order_by("pk")
    noticed = sum(_retention_review_notice(pk=pk, today=today) for pk in to_review.values_list("pk", flat=True))
    return {"ended": ended, "review_notices": noticed}


def seed_demo_retention(
    *, asked_by: User, decided_by: User, systems, area: str, today: date | None = None,
) -> RetentionExtension:
    """One granted extension for the demo: condition (b), 90 days, from today for six months, reviewed
    in three. `asked_by` is a department head whose department uses every system named (or ITSA),
    `decided_by` the Director of Public Safety. Safe to run twice: an extension already granted for
    the same area is returned as it is."""
    today = today or timezone.localdate()
    existing = RetentionExtension.objects.filter(area=area, status=Status.GRANTED, requested_by=asked_by).first()
    if existing is not None:
        return existing
    extension = retention_extension_request(
        systems=systems, condition=Condition.SAME_CRIMES, area=area, retention_days=EXTENDED_DAYS,
        justification="Car break-ins keep recurring along the same corridor; investigations need footage older "
                      "than 30 days to link the incidents.",
        starts_on=today, ends_on=today + timedelta(days=182), review_on=today + timedelta(days=91), by=asked_by,
        today=today,
    )
    return retention_extension_decide(
        extension=extension, grant=True, by=decided_by, today=today,
        reason="Condition (b) is met: the district's incident reports show the same crimes recurring.",
    )
