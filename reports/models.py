"""Published reports (Section 2.5), kept as they were published."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Department
from portal.history import AppendOnlyHistoricalRecords, history_user


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


class ReportReminder(models.Model):
    """A reminder of a report due or overdue (2.5), one a stage and one a day: the daily task records
    it before mailing, so a second run (the same day, or a retry) finds it and sends nothing."""

    kind = models.CharField(max_length=20, choices=PublishedReport.Kind.choices)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                   help_text="Empty for the citywide report.")
    period_start = models.DateField()
    stage = models.CharField(max_length=20, help_text="before-30, before-7, due, or late-N (N weeks overdue).")
    sent_on = models.DateField()

    class Meta:
        ordering = ["-sent_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "department", "period_start", "stage"],
                                    name="one_report_reminder_a_stage"),
            models.UniqueConstraint(fields=["kind", "period_start", "stage"], condition=Q(department__isnull=True),
                                    name="one_city_report_reminder_a_stage"),
            models.UniqueConstraint(fields=["kind", "department", "period_start", "sent_on"],
                                    name="one_report_reminder_a_day"),
            models.UniqueConstraint(fields=["kind", "period_start", "sent_on"], condition=Q(department__isnull=True),
                                    name="one_city_report_reminder_a_day"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.department or 'citywide'} {self.period_start}: {self.stage}"


class BoardHandover(models.Model):
    """A published report given to the Board of Aldermen at its request (S2.5d): the Mayor "shall, at
    the request of the Board of Aldermen provide these reports to the Board"."""

    report = models.ForeignKey(PublishedReport, on_delete=models.PROTECT, related_name="handovers")
    requested_on = models.DateField(help_text="The day the Board of Aldermen asked for the report.")
    request_reference = models.CharField(max_length=200,
                                         help_text="The Board's request, e.g. “Letter of 3 March 2027”.")
    handed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    handed_at = models.DateTimeField()
    sent_to = models.EmailField(blank=True, help_text="The Board's address the PDF was mailed to; empty when it "
                                                      "was handed over by other means.")
    note = models.TextField(blank=True)

    history = AppendOnlyHistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["-handed_at", "-id"]

    def __str__(self):
        return f"{self.report} → Board of Aldermen, {self.handed_at:%Y-%m-%d}"
