"""Admin for department access, access requests, their documents and status changes: all read-only.

Every change of these goes through access_requests.services, from the portal's pages; the admin only shows them.
"""

from django.contrib import admin
from django.utils.html import format_html

from portal.admin import ReadOnlyAdmin, ReadOnlyHistoryAdmin

from .models import AccessRequest, DepartmentAccess, RosterRun, StatusChange, SupportingDocument, WrittenRequest


@admin.register(DepartmentAccess)
class DepartmentAccessAdmin(ReadOnlyHistoryAdmin):
    """The Mayor's designee grants or denies department access on the portal's pages (3.4)."""

    list_display = ("department", "system", "status", "requested_by", "requested_at", "decided_by", "decided_at")
    list_filter = ("status", "system", "department")
    list_select_related = ("department", "system", "requested_by", "decided_by")
    search_fields = ("department__name", "system__name", "business_need", "decision_reason")
    date_hierarchy = "requested_at"
    readonly_fields = ("requested_at",)


class SupportingDocumentInline(admin.TabularInline):
    model = SupportingDocument
    fields = ("document", "content_type", "size", "sha256", "uploaded_by", "uploaded_at")
    readonly_fields = fields
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="document")
    def document(self, obj):
        return _document_link(obj)


def _document_link(document):
    # Through the portal's document view, which checks who may see the request; never a storage URL.
    return format_html('<a href="{}">{}</a>', document.get_absolute_url(), document.original_name)


@admin.register(AccessRequest)
class AccessRequestAdmin(ReadOnlyHistoryAdmin):
    """Filed, approved, provisioned and returned on the portal's pages; the written text is frozen."""

    list_display = ("reference", "person", "system", "action", "role", "status", "department", "submitted_at")
    list_filter = ("status", "action", "role", "department", "system")
    list_select_related = ("person", "system", "department")
    search_fields = ("reference", "person__full_name", "person__email", "system__name", "account_name")
    date_hierarchy = "submitted_at"
    readonly_fields = ("reference", "written_text", "written_sha256")
    inlines = [SupportingDocumentInline]


@admin.register(SupportingDocument)
class SupportingDocumentAdmin(ReadOnlyAdmin):
    list_display = ("original_name", "request", "content_type", "size", "uploaded_by", "uploaded_at")
    list_filter = ("content_type",)
    list_select_related = ("request", "request__person", "request__system", "uploaded_by")
    search_fields = ("original_name", "request__reference", "sha256")
    fields = ("request", "document", "content_type", "size", "sha256", "uploaded_by", "uploaded_at")
    readonly_fields = fields

    @admin.display(description="document")
    def document(self, obj):
        return _document_link(obj)


@admin.register(StatusChange)
class StatusChangeAdmin(ReadOnlyHistoryAdmin):
    """A head reports a status change on the person's page; the service queues the grants for ITSA (3.5)."""

    list_display = ("person", "kind", "effective_date", "department", "reported_by", "reported_at")
    list_filter = ("kind", "department")
    list_select_related = ("person", "department", "reported_by")
    search_fields = ("person__full_name", "person__email", "note")
    date_hierarchy = "effective_date"
    readonly_fields = ("reported_at",)


@admin.register(RosterRun)
class RosterRunAdmin(ReadOnlyAdmin):
    """An HR roster applied (access_requests.roster): its file, SHA-256 and what it changed."""

    list_display = ("file_name", "sha256", "applied_at", "applied_through", "pending_from")
    search_fields = ("file_name", "sha256")
    fields = ("file_name", "sha256", "applied_at", "applied_through", "pending_from", "counts")
    readonly_fields = fields


@admin.register(WrittenRequest)
class WrittenRequestAdmin(ReadOnlyAdmin):
    """The PDF made when a request was filed; downloaded from the request's page."""

    list_display = ("request", "sha256", "created_at")
    list_select_related = ("request__person", "request__system")
    search_fields = ("request__reference", "sha256")
    fields = ("request", "sha256", "created_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("pdf")

