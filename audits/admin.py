"""Admin for validations, their items and the reminders sent: all read-only.

Validations open on the schedule or by ITSA's order, and heads decide and sign them off on the
portal's pages, through audits.services; the admin only shows them.
"""

from django.contrib import admin

from portal.admin import ReadOnlyAdmin, ReadOnlyHistoryAdmin

from .models import AttestationCopy, ReminderSent, Validation, ValidationItem


class ValidationItemInline(admin.TabularInline):
    model = ValidationItem
    fields = ("grant", "decision", "new_role", "reason", "decided_by", "decided_at", "follow_up")
    readonly_fields = fields
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(
            "grant__person", "grant__system", "decided_by", "follow_up__person", "follow_up__system"
        )


@admin.register(Validation)
class ValidationAdmin(ReadOnlyHistoryAdmin):
    """The yearly validation of a department (3.4) or a user audit ordered by ITSA (3.5)."""

    list_display = ("department", "kind", "system", "period", "status", "due_date", "signed_off_by", "completed_at")
    list_filter = ("kind", "status", "department")
    list_select_related = ("department", "system", "signed_off_by")
    search_fields = ("department__name", "department__code", "system__name", "sign_off_statement")
    date_hierarchy = "period"
    readonly_fields = ("opened_at", "attestation_sha256")
    inlines = [ValidationItemInline]


@admin.register(ValidationItem)
class ValidationItemAdmin(ReadOnlyHistoryAdmin):
    list_display = ("grant", "validation", "decision", "decided_by", "decided_at")
    list_filter = ("decision", "validation__kind", "validation__department")
    list_select_related = ("grant__person", "grant__system", "validation__department", "validation__system",
                           "decided_by")
    search_fields = ("grant__person__full_name", "grant__person__email", "grant__system__name",
                     "grant__account_name", "reason")
    raw_id_fields = ("validation", "grant", "follow_up")


@admin.register(ReminderSent)
class ReminderSentAdmin(ReadOnlyAdmin):
    list_display = ("validation", "days_before_due", "sent_at")
    list_select_related = ("validation__department", "validation__system")
    search_fields = ("validation__department__name",)
    fields = ("validation", "days_before_due", "sent_at")
    readonly_fields = fields


@admin.register(AttestationCopy)
class AttestationCopyAdmin(ReadOnlyAdmin):
    """The copy of an open validation's attestation last asked for; made on a worker, never edited here."""

    list_display = ("validation", "requested_by", "requested_at", "made_at", "failure")
    list_select_related = ("validation__department", "validation__system", "requested_by")
    raw_id_fields = ("validation",)
