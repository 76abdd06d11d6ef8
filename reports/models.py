"""Published reports (Section 2.5), kept as they were published."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Department


def _report_path(instance, filename):
    # Generated names only; the file is written once, when the report is published.
    return f"reports/{instance.period_start:%Y}/{uuid.uuid4().hex}.pdf"


class PublishedReport(models.Model):
    """A report as it was published (2.5): the PDF, its SHA-256 and its figures, frozen.

    `figures` holds the report's tables, in the shape `reports.metrics.Figures.tables()` returns:
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
        db_table = "audits_publishedreport"  # the table it had in audits, kept with its rows
        ordering = ["-period_end", "kind", "department__name", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "department", "period_start"], name="one_report_per_period"),
            models.UniqueConstraint(fields=["kind", "period_start"], condition=Q(department__isnull=True),
                                    name="one_city_report_per_period"),
        ]

    def __str__(self):
        return self.title
