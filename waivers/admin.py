"""Waivers: read-only, with their history."""

from django.contrib import admin

from portal.admin import ReadOnlyHistoryAdmin

from .models import Waiver


@admin.register(Waiver)
class WaiverAdmin(ReadOnlyHistoryAdmin):
    """Asked for, granted and ended on the portal's pages (5.1): the admin only shows waivers."""

    list_display = ("pk", "department", "intended_use", "basis", "starts_on", "ends_on", "status",
                    "substantive_change", "decided_by")
    list_filter = ("status", "basis", "substantive_change", "department")
    list_select_related = ("department", "intended_use", "decided_by")
    search_fields = ("deviation", "justification", "department__name")
    date_hierarchy = "starts_on"
