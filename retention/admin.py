"""Retention extensions: read-only, with their history."""

from django.contrib import admin

from portal.admin import ReadOnlyHistoryAdmin

from .models import RetentionExtension


@admin.register(RetentionExtension)
class RetentionExtensionAdmin(ReadOnlyHistoryAdmin):
    """Asked for and decided on the portal's pages (3.11): the admin only shows extensions."""

    list_display = ("pk", "condition", "retention_days", "starts_on", "ends_on", "review_on", "status", "decided_by")
    list_filter = ("status", "condition")
    list_select_related = ("decided_by",)
    search_fields = ("area", "justification")
    date_hierarchy = "starts_on"
