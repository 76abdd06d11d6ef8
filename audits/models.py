"""Validations (the yearly review of 3.4) and user audits (ordered by ITSA at any time, 3.5)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from accounts.models import Department, Grant, SurveillanceSystem
from portal.models import IntendedUse, PermissibleUse
from portal.decisions import AskAndDecide
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


def _report_path(instance, filename):
    # Generated names only; the file is written once, when the report is published.
    return f"reports/{instance.period_start:%Y}/{uuid.uuid4().hex}.pdf"


class PublishedReport(models.Model):
    """A report as it was published (2.5): the PDF, its SHA-256 and its figures, frozen.

    `figures` holds the report's tables, in the shape `audits.metrics.Figures.tables()` returns:
    a list of {"key", "title", "label_heading", "value_heading", "unit", "rows": [{"label", "value"}]}.
    For a public report small counts are already replaced by null (shown as "fewer than 5")."""

    class Kind(models.TextChoices):
        DEPARTMENT_ANNUAL = "department_annual", "Annual department report"
        CITY_BIANNUAL = "city_biannual", "Biannual citywide report"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="reports",
        help_text="Empty for the citywide report.",
    )
    period_start = models.DateField()
    period_end = models.DateField(help_text="The last day the report covers.")
    title = models.CharField(max_length=200)
    pdf = models.FileField(upload_to=_report_path, max_length=200, editable=False)
    pdf_sha256 = models.CharField(max_length=64, editable=False)
    figures = models.JSONField(default=list, editable=False)
    is_public = models.BooleanField(default=False, help_text="Shown on the public transparency page.")
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["-period_end", "kind", "department__name", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "department", "period_start"], name="one_report_per_period"),
            models.UniqueConstraint(fields=["kind", "period_start"], condition=Q(department__isnull=True),
                                    name="one_city_report_per_period"),
        ]

    def __str__(self):
        return self.title


class Waiver(AskAndDecide):
    """A temporary exception to a use or a condition of Table 1 (5.1).

    Somebody asks (a department head, usually); the Director of Public Safety or the City
    Operations Director grants or denies it, never the person who asked. The justification rests on
    the life, safety or asset protection of the city or the public. A waiver lasts from `starts_on`
    to 00:00, city time, on `ends_on`: at most 30 days, unless the Mayor approves (the Mayor's
    designee records that approval), and then it is a substantive change to the policy. It ends by
    itself, and it shows on every grant it touches. Separation of duties (3.2) is never waivable."""

    MAX_DAYS_WITHOUT_MAYOR = 30

    class Basis(models.TextChoices):
        LIFE = "life", "Life"
        SAFETY = "safety", "Safety"
        ASSET_PROTECTION = "asset_protection", "Asset protection"

    class Status(models.TextChoices):
        REQUESTED = "requested", "Awaiting a director"
        AWAITING_MAYOR = "awaiting_mayor", "Awaiting the Mayor's approval"
        GRANTED = "granted", "Granted"
        DENIED = "denied", "Denied"
        EXPIRED = "expired", "Ended"
        REVOKED = "revoked", "Revoked"

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="waivers")
    intended_use = models.ForeignKey(
        IntendedUse, on_delete=models.PROTECT, related_name="+",
        help_text="The row of Table 1 the deviation departs from.",
    )
    permissible_use = models.ForeignKey(
        PermissibleUse, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The permissible use concerned, if one.",
    )
    deviation = models.TextField(help_text="The deviation from the use or condition of Table 1, in words.")
    basis = models.CharField("justified by", max_length=20, choices=Basis.choices)
    justification = models.TextField()
    grants = models.ManyToManyField(Grant, related_name="waivers", blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField(help_text="The waiver ends at 00:00, city time, on this day.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED, db_index=True)
    substantive_change = models.BooleanField(
        default=False, help_text="Longer than 30 days: approved by the Mayor, a substantive change to the policy.",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The director who granted or denied it.",
    )
    mayor_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The Mayor's designee who recorded the Mayor's approval.",
    )
    mayor_approved_on = models.DateField("date of the Mayor's approval", null=True, blank=True)
    mayor_refused_on = models.DateField("date of the Mayor's refusal", null=True, blank=True)
    mayor_note = models.TextField(
        "the Mayor's reason", blank=True, help_text="As the designee recorded it with the Mayor's decision.",
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Empty when it ran out on its end date.",
    )
    end_reason = models.TextField(blank=True, help_text="Why the director revoked it.")

    history = AppendOnlyHistoricalRecords(get_user=history_user, m2m_fields=[grants])

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self):
        return f"Waiver {self.pk}: {self.department} — {self.intended_use}"

    def get_absolute_url(self):
        return reverse("waivers:detail", args=[self.pk])

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days

    def is_in_force(self, on=None) -> bool:
        from django.utils import timezone

        on = on or timezone.localdate()
        return self.status == self.Status.GRANTED and self.starts_on <= on < self.ends_on


class Incident(models.Model):
    """A report of willful unauthorized access or willful abuse of a surveillance system (5.2).

    Anyone signed in may report, anonymously if they wish: then the portal keeps no link to the
    reporter except a keyed digest, so that the reporter can never be the one who decides. It is
    documented at once and the Mayor's designee is told. ITSA or the designee may suspend the
    person's grants pending review; the corrective action and the closure are recorded."""

    class Nature(models.TextChoices):
        UNAUTHORIZED_ACCESS = "unauthorized_access", "Willful unauthorized access"
        ABUSE = "abuse", "Willful abuse"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    reference = models.CharField(max_length=20, unique=True, editable=False)
    nature = models.CharField(max_length=24, choices=Nature.choices)
    description = models.TextField(help_text="What happened, when and where, as the reporter knows it.")
    occurred_on = models.DateField(null=True, blank=True)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="incidents",
        help_text="The person the report concerns, if known.",
    )
    system = models.ForeignKey(
        SurveillanceSystem, null=True, blank=True, on_delete=models.PROTECT, related_name="incidents",
    )
    anonymous = models.BooleanField(default=False)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Empty for an anonymous report.",
    )
    reporter_digest = models.CharField(max_length=64, editable=False)
    reported_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True)
    suspended_grants = models.ManyToManyField(Grant, related_name="incidents", blank=True)
    suspended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )
    suspended_at = models.DateTimeField(null=True, blank=True)
    corrective_action = models.TextField(blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    history = AppendOnlyHistoricalRecords(get_user=history_user, m2m_fields=[suspended_grants],
                                          excluded_fields=["reporter_digest"])

    class Meta:
        ordering = ["-reported_at", "-id"]

    def __str__(self):
        return f"{self.reference}: {self.get_nature_display()}"

    def get_absolute_url(self):
        return reverse("incidents:detail", args=[self.pk])


class RetentionExtension(AskAndDecide):
    """The Director of Public Safety's extension of retention from 30 to 90 days for named systems
    or areas, citing one of the conditions of 3.11 (a, b or c). It is asked for by somebody else,
    lasts from `starts_on` to 00:00, city time, on `ends_on`, and is reviewed on `review_on`.
    Biometric data (3.12) keeps the minimum retention: the extension never covers it."""

    DEFAULT_DAYS = 30
    EXTENDED_DAYS = 90

    class Condition(models.TextChoices):
        HIGH_CRIME = "a", "(a) The area has a high rate of crime"
        SAME_CRIMES = "b", "(b) The same crimes continuously occur in the area"
        SAME_PERPETRATORS = "c", "(c) Reasonable suspicion that the same perpetrators commit crimes in the area"

    class Status(models.TextChoices):
        REQUESTED = "requested", "Awaiting the Director of Public Safety"
        GRANTED = "granted", "Granted"
        DENIED = "denied", "Denied"
        EXPIRED = "expired", "Ended"

    systems = models.ManyToManyField(SurveillanceSystem, related_name="retention_extensions")
    area = models.TextField(
        blank=True, help_text="The area or the devices covered, when not all of a system's devices are.",
    )
    condition = models.CharField("condition of 3.11", max_length=1, choices=Condition.choices)
    justification = models.TextField()
    retention_days = models.PositiveSmallIntegerField(default=EXTENDED_DAYS)
    starts_on = models.DateField()
    ends_on = models.DateField(help_text="The extension ends at 00:00, city time, on this day.")
    review_on = models.DateField(help_text="When the Director of Public Safety reviews the extension.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED, db_index=True)
    review_notice_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The Director of Public Safety who ended it early; empty when it ran out on its end date.",
    )
    end_reason = models.TextField(blank=True, help_text="Why it was ended early.")

    history = AppendOnlyHistoricalRecords(get_user=history_user, m2m_fields=[systems],
                                          excluded_fields=["review_notice_sent_at"])

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self):
        return f"Retention extension {self.pk} ({self.get_condition_display()})"

    def get_absolute_url(self):
        return reverse("retention:detail", args=[self.pk])
