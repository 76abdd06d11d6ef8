"""Retention extensions from 30 to 90 days (Section 3.11)."""


from django.conf import settings
from django.db import models
from django.urls import reverse

from accounts.models import SurveillanceSystem
from portal.decisions import AskAndDecide
from portal.history import AppendOnlyHistoricalRecords, history_user


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

    history = AppendOnlyHistoricalRecords(get_user=history_user, table_name="audits_historicalretentionextension", m2m_fields=[systems],
                                          excluded_fields=["review_notice_sent_at"])

    class Meta:
        db_table = "audits_retentionextension"  # the table it had in audits, kept with its rows
        ordering = ["-requested_at", "-id"]

    def __str__(self):
        return f"Retention extension {self.pk} ({self.get_condition_display()})"

    def get_absolute_url(self):
        return reverse("retention:detail", args=[self.pk])
