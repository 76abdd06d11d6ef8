"""The ask-and-decide block every workflow with a decider shares: who asked and who decided, when and
why, and the steps of a decision. What differs between workflows (who may decide, what an approval
needs and sets off, the mails) stays in the workflow's own service."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from .audit import audit_record, audit_refusal
from .errors import NotAllowed, RuleViolation
from .text import clean_text


class AskAndDecide(models.Model):
    """Somebody asks, somebody else decides, with a reason. `status` stays with each workflow: its
    statuses are its own."""

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    class Meta:
        abstract = True

    def is_asked_by(self, user) -> bool:
        return self.requested_by_id == user.pk


def refuse_decider(record: AskAndDecide, *, by, action: str, may_decide: bool, not_allowed: str, asked: str,
                   detail: str = "") -> None:
    """Refuse a person whose role does not decide, and a decider who asked: nobody decides their own
    request. Either refusal is recorded in the audit trail under `action`; `detail` goes with the
    second."""
    if not may_decide:
        audit_refusal(actor=by, action=action, target=record)
        raise NotAllowed(not_allowed)
    if record.is_asked_by(by):
        audit_refusal(actor=by, action=action, target=record, detail=detail)
        raise NotAllowed(asked)


def decision_open(record: AskAndDecide, *, by, reason: str, outcomes, pending: str, what: str, action: str,
                  may_decide: bool, not_allowed: str, asked: str, detail: str = "") -> str | None:
    """The checks before a decision on a locked record. None when `by` already decided it into one of
    `outcomes` (a double submit has one effect); otherwise the reason, cleaned, once the decider is
    allowed (`refuse_decider`, which takes the last four arguments) and the record is still `pending`."""
    if record.status in outcomes and record.decided_by_id == by.pk:
        return None
    refuse_decider(record, by=by, action=action, may_decide=may_decide, not_allowed=not_allowed, asked=asked,
                   detail=detail)
    if record.status != pending:
        raise RuleViolation(f"This {what} was already decided: {record.get_status_display().lower()}.")
    return clean_text(reason, field="reason", label="reason for the decision")


def decision_record(record: AskAndDecide, *, status: str, reason: str, by, action: str, detail: str = "",
                    change_reason: str | None = None) -> AskAndDecide:
    """Write the decision (history records it, with `change_reason` when given) and its audit event."""
    record.status = status
    record.decision_reason = reason
    record.decided_by = by
    record.decided_at = timezone.now()
    if change_reason is not None:
        record._change_reason = change_reason
    record.save()
    audit_record(actor=by, action=action, target=record, detail=detail)
    return record
