"""Validations (the yearly review of 3.4) and user audits (ordered by ITSA at any time, 3.5)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from accounts.models import Department, Grant, SurveillanceSystem
from portal.history import AppendOnlyHistoricalRecords, history_user

def _attestation_path(instance, filename):
    # Generated names only; the file is written once, after the sign-off.
    return f"attestations/{instance.period:%Y}/{uuid.uuid4().hex}.pdf"

class Validation(models.Model):
    """One review of a department's grants (or of one system's, for a user audit), item by item."""

    class Kind(models.TextChoices):
        ANNUAL = "annual", "Annual validation"
        USER_AUDIT = "user_audit", "User audit"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        SIGNED_OFF = "signed_off", "Signed off — removals with ITSA"
        COMPLETE = "complete", "Complete"

    OPEN_STATUSES = (Status.OPEN, Status.SIGNED_OFF)

    kind = models.CharField(max_length=12, choices=Kind.choices)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="validations")
    system = models.ForeignKey(
        SurveillanceSystem, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="For a user audit of one system: only that system's grants.",
    )
    period = models.DateField(help_text="The day the review period opened; one annual validation per period.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN, db_index=True)
    opened_at = models.DateTimeField(auto_now_add=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Empty when the schedule opened it.",
    )
    due_date = models.DateField()
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)
    sign_off_statement = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # The attestation as signed: rendered once after the sign-off and kept with its SHA-256, so the
    # record does not change when a name or a system does later (audits.documents.attestation_freeze).
    attestation_pdf = models.FileField(upload_to=_attestation_path, max_length=200, blank=True, editable=False)
    attestation_sha256 = models.CharField(max_length=64, blank=True, editable=False)

    history = AppendOnlyHistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            # The database, not only a check, keeps two runs of the schedule from opening twice.
            models.UniqueConstraint(fields=["department", "period"], condition=Q(kind="annual"),
                                    name="one_annual_validation_per_period"),
            models.UniqueConstraint(fields=["department"], condition=Q(kind="annual", status__in=["open", "signed_off"]),
                                    name="one_open_annual_validation"),
        ]

    def __str__(self):
        scope = f"{self.department}" + (f", {self.system}" if self.system_id else "")
        return f"{self.get_kind_display()} — {scope} ({self.period:%Y-%m-%d})"

    def get_absolute_url(self):
        return reverse("audits:validation", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

def _copy_path(instance, filename):
    # Generated names only; a new copy replaces the file of the last one.
    return f"attestations/copies/{uuid.uuid4().hex}.pdf"


class AttestationCopy(models.Model):
    """A copy of a validation's attestation with the decisions made so far, asked for while it is open.

    A large department's attestation takes a worker tens of seconds to lay out, so nobody waits for it
    in a request: the copy is asked for, made on a worker (audits.documents.attestation_copy_make) and
    downloaded when it is ready. One a validation: asking again replaces it. The signed attestation is
    the one kept on the validation (attestation_pdf); a copy is no record and goes with the sign-off."""

    validation = models.OneToOneField(Validation, on_delete=models.CASCADE, related_name="attestation_copy")
    requested_at = models.DateTimeField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    # When the worker read the records the copy shows; empty until it has made one.
    made_at = models.DateTimeField(null=True, blank=True)
    pdf = models.FileField(upload_to=_copy_path, max_length=200, blank=True)
    failure = models.TextField(blank=True, help_text="Why the last copy could not be made, in the person's words.")

    class Meta:
        verbose_name = "attestation copy"
        verbose_name_plural = "attestation copies"

    def __str__(self):
        return f"Attestation copy of {self.validation}"

    @property
    def is_pending(self) -> bool:
        """Asked for and not made since, and not failed since."""
        return not self.failure and (self.made_at is None or self.made_at < self.requested_at)


class ValidationItem(models.Model):
    """One grant under review, and the head's decision on it."""

    class Decision(models.TextChoices):
        PENDING = "pending", "Not decided yet"
        KEEP = "keep", "Keep"
        REVOKE = "revoke", "Revoke"
        CHANGE_ROLE = "change_role", "Change role"
        CLOSED = "closed", "Closed: the access ended meanwhile"
        SUSPENDED = "suspended", "Suspended: no answer by the deadline"

    UNDECIDED = (Decision.PENDING,)

    validation = models.ForeignKey(Validation, on_delete=models.CASCADE, related_name="items")
    grant = models.ForeignKey(Grant, on_delete=models.PROTECT, related_name="validation_items")
    decision = models.CharField(max_length=12, choices=Decision.choices, default=Decision.PENDING, db_index=True)
    new_role = models.CharField(max_length=14, choices=Grant.Role.choices, blank=True)
    reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    follow_up = models.ForeignKey(
        "access_requests.AccessRequest", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The removal or change request this decision sent to ITSA.",
    )

    history = AppendOnlyHistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["grant__person__full_name", "grant__system__name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["validation", "grant"], name="one_item_per_grant"),
        ]
        indexes = [
            # The items table's order (audits.selectors.validation_items): without it PostgreSQL
            # walked the primary key of every validation's items to find one validation's first 25.
            models.Index(fields=["validation", "id"], name="validation_item_order"),
        ]

    def __str__(self):
        return f"{self.grant}: {self.get_decision_display()}"

    @property
    def is_pending(self) -> bool:
        return self.decision == self.Decision.PENDING

class ReminderSent(models.Model):
    """A reminder or escalation that went out, so each is sent exactly once."""

    validation = models.ForeignKey(Validation, on_delete=models.CASCADE, related_name="reminders")
    days_before_due = models.SmallIntegerField(help_text="0 on the due date; negative for the escalation.")
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["validation", "days_before_due"], name="one_reminder_per_offset"),
        ]

