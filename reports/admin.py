"""Published reports: read-only."""

from django.contrib import admin

from portal.admin import ReadOnlyAdmin

from .models import PublishedReport


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
