"""Incidents: read-only, with their history."""

from django.contrib import admin

from portal.admin import ReadOnlyHistoryAdmin

from .models import Incident


@admin.register(Incident)
class IncidentAdmin(ReadOnlyHistoryAdmin):
    """Reported, suspended and closed on the portal's pages (5.2). An anonymous report shows no reporter."""

    list_display = ("reference", "nature", "system", "status", "reported_at", "closed_at")
    list_filter = ("status", "nature", "system")
    list_select_related = ("system",)
    search_fields = ("reference", "description", "corrective_action")
    date_hierarchy = "reported_at"
    exclude = ("reporter_digest",)
