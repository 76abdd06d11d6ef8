"""Published reports: read-only."""

from django.contrib import admin

from portal.admin import ReadOnlyAdmin

from .models import BoardHandover, PublishedReport, ReportReminder


@admin.register(PublishedReport)
class PublishedReportAdmin(ReadOnlyAdmin):
    """Reports are published on the portal's pages (reports.services); once published they never change."""

    list_display = ("title", "kind", "department", "period_start", "period_end", "is_public", "published_at")
    list_filter = ("kind", "is_public", "department")
    list_select_related = ("department", "published_by")
    search_fields = ("title", "department__name")
    fields = ("title", "kind", "department", "period_start", "period_end", "is_public", "pdf_sha256",
              "published_by", "published_at")
    readonly_fields = fields


@admin.register(BoardHandover)
class BoardHandoverAdmin(ReadOnlyAdmin):
    """Reports given to the Board of Aldermen (2.5), recorded on the report's page (reports.services)."""

    list_display = ("report", "requested_on", "request_reference", "handed_by", "handed_at", "sent_to")
    list_select_related = ("report", "handed_by")
    fields = ("report", "requested_on", "request_reference", "handed_by", "handed_at", "sent_to", "note")
    readonly_fields = fields


@admin.register(ReportReminder)
class ReportReminderAdmin(ReadOnlyAdmin):
    """The reminders of the reports due, as the daily task sent them."""

    list_display = ("kind", "department", "period_start", "stage", "sent_on")
    list_filter = ("kind", "stage")
    list_select_related = ("department",)
    fields = ("kind", "department", "period_start", "stage", "sent_on")
    readonly_fields = fields
