"""Incidents of willful unauthorized access or abuse (Section 5.2)."""


from django.conf import settings
from django.db import models
from django.urls import reverse

from accounts.models import Grant, SurveillanceSystem
from portal.history import AppendOnlyHistoricalRecords, history_user


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

    history = AppendOnlyHistoricalRecords(get_user=history_user, table_name="audits_historicalincident", m2m_fields=[suspended_grants],
                                          excluded_fields=["reporter_digest"])

    class Meta:
        db_table = "audits_incident"  # the table it had in audits, kept with its rows
        ordering = ["-reported_at", "-id"]

    def __str__(self):
        return f"{self.reference}: {self.get_nature_display()}"

    def get_absolute_url(self):
        return reverse("incidents:detail", args=[self.pk])
