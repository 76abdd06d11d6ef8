"""Waivers (Section 5.1): temporary exceptions to a use or a condition of Table 1."""


from django.conf import settings
from django.db import models
from django.urls import reverse

from accounts.models import Department, Grant
from portal.decisions import AskAndDecide
from portal.history import AppendOnlyHistoricalRecords, history_user
from portal.models import IntendedUse, PermissibleUse


class Waiver(AskAndDecide):
    """A temporary exception to a use or a condition of Table 1 (5.1).

    Somebody asks (a department head, usually); the Director of Public Safety or the City
    Operations Director grants or denies it, never the person who asked. The justification rests on
    the life, safety or asset protection of the city or the public. A waiver lasts from `starts_on`
    to 00:00, city time, on `ends_on`: at most 30 days, unless the Mayor approves (the Mayor's
    designee records that approval), and then it is a substantive change to the policy. The 30 days
    are those of the deviation, however it is split into waivers (S5.1c, waivers.services.waiver_chain).
    It ends by itself, and it shows on every grant it touches. Separation of duties (3.2) is never waivable."""

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

    history = AppendOnlyHistoricalRecords(get_user=history_user, table_name="audits_historicalwaiver", m2m_fields=[grants])

    class Meta:
        db_table = "audits_waiver"  # the table it had in audits, kept with its rows
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
