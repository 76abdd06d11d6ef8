"""Metrics and KPIs (Section 2.5): what an authorized department measures of its use of a system, the
yearly figures, and the head's statement of whether the use has a positive impact."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from accounts.models import Department, SurveillanceSystem
from portal.decisions import AskAndDecide
from portal.history import AppendOnlyHistoricalRecords, history_user
from portal.models import IntendedUse


class Kpi(AskAndDecide):
    """A metric of one system's use for one intended use of Table 1, with its target (S2.5a).

    The department's head or an authorized requester proposes it; the Mayor's designee approves or
    refuses it, never the person who proposed it. Approved, it asks a figure every year until it is
    retired."""

    class Direction(models.TextChoices):
        HIGHER = "higher", "Higher is better"
        LOWER = "lower", "Lower is better"

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Awaiting the Mayor's designee"
        APPROVED = "approved", "Approved"
        REFUSED = "refused", "Refused"
        WITHDRAWN = "withdrawn", "Withdrawn"
        RETIRED = "retired", "Retired"

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="kpis")
    system = models.ForeignKey(SurveillanceSystem, on_delete=models.PROTECT, related_name="kpis")
    intended_use = models.ForeignKey(IntendedUse, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=120, help_text="Short, e.g. “Stolen vehicles recovered”.")
    measure = models.TextField(help_text="What data is collected, and how.")
    unit = models.CharField(max_length=40, help_text="e.g. “vehicles”, “%”.")
    direction = models.CharField(max_length=6, choices=Direction.choices)
    target = models.DecimalField(max_digits=14, decimal_places=2)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED, db_index=True)
    retired_at = models.DateField(null=True, blank=True)

    history = AppendOnlyHistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["department__name", "system__name", "intended_use__position", "name", "pk"]
        verbose_name = "KPI"
        verbose_name_plural = "KPIs"

    def __str__(self):
        return f"{self.name} ({self.department}, {self.system})"

    def get_absolute_url(self):
        return reverse("kpis:detail", args=[self.pk])

    def is_met_by(self, value) -> bool | None:
        """Whether a figure meets the target; None without a figure."""
        if value is None:
            return None
        return value >= self.target if self.direction == self.Direction.HIGHER else value <= self.target


class KpiFigure(models.Model):
    """The value of a KPI for one calendar year (S2.5d). Re-recorded until the year's annual report
    is submitted, then frozen."""

    kpi = models.ForeignKey(Kpi, on_delete=models.PROTECT, related_name="figures")
    year = models.PositiveSmallIntegerField()
    value = models.DecimalField(max_digits=14, decimal_places=2)
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    frozen_at = models.DateTimeField(null=True, blank=True)

    history = AppendOnlyHistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["kpi", "-year"]
        constraints = [models.UniqueConstraint(fields=["kpi", "year"], name="one_figure_per_kpi_and_year")]

    def __str__(self):
        return f"{self.kpi.name}, {self.year}: {self.value}"


class ImpactStatement(models.Model):
    """The head's statement, based on the year's figures, of whether the use of a system for an
    intended use is having a positive impact (S2.5d)."""

    class Verdict(models.TextChoices):
        POSITIVE = "positive", "Positive impact"
        NONE = "none", "No clear impact"
        NEGATIVE = "negative", "Negative impact"
        TOO_EARLY = "too_early", "Too early to tell"

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="impact_statements")
    system = models.ForeignKey(SurveillanceSystem, on_delete=models.PROTECT, related_name="impact_statements")
    intended_use = models.ForeignKey(IntendedUse, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    explanation = models.TextField()
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField()
    frozen_at = models.DateTimeField(null=True, blank=True)

    history = AppendOnlyHistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["department__name", "system__name", "intended_use__position", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["department", "system", "intended_use", "year"],
                                    name="one_impact_statement_per_use_and_year"),
        ]

    def __str__(self):
        return f"{self.department}, {self.system}, {self.intended_use}, {self.year}: {self.get_verdict_display()}"
