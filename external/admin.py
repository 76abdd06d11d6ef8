"""Admin for external system connections: read-only.

Every change goes through external.services, from the portal's pages; the admin only shows them.
"""

from django.contrib import admin

from portal.admin import ReadOnlyHistoryAdmin

from .models import ExternalConnection


@admin.register(ExternalConnection)
class ExternalConnectionAdmin(ReadOnlyHistoryAdmin):
    """Asked for and decided on the portal's pages (3.6): the admin only shows connections."""

    list_display = ("name", "owner", "department", "method", "status", "starts_on", "ends_on", "decided_by")
    list_filter = ("status", "method", "department")
    list_select_related = ("department", "decided_by")
    search_fields = ("name", "owner", "business_reasons")
    date_hierarchy = "requested_at"
