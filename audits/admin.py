"""Admin for validations, their items and the reminders sent: all read-only.

Validations open on the schedule or by ITSA's order, and heads decide and sign them off on the
portal's pages, through audits.services; the admin only shows them.
"""

from django.contrib import admin

from portal.admin import ReadOnlyAdmin, ReadOnlyHistoryAdmin

from .models import Incident, PublishedReport, ReminderSent, RetentionExtension, Validation, ValidationItem, Waiver


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


@admin.register(PublishedReport)
class PublishedReportAdmin(ReadOnlyAdmin):
    """Reports are published on the portal's pages (audits.reports); once published they never change."""

    list_display = ("title", "kind", "department", "period_start", "period_end", "is_public", "published_at")
    list_filter = ("kind", "is_public", "department")
    list_select_related = ("department", "published_by")
    search_fields = ("title", "department__name")
    fields = ("title", "kind", "department", "period_start", "period_end", "is_public", "pdf_sha256",
              "published_by", "published_at")
    readonly_fields = fields


@admin.register(Waiver)
class WaiverAdmin(ReadOnlyHistoryAdmin):
    """Asked for, granted and ended on the portal's pages (5.1): the admin only shows waivers."""

    list_display = ("pk", "department", "intended_use", "basis", "starts_on", "ends_on", "status",
                    "substantive_change", "decided_by")
    list_filter = ("status", "basis", "substantive_change", "department")
    list_select_related = ("department", "intended_use", "decided_by")
    search_fields = ("deviation", "justification", "department__name")
    date_hierarchy = "starts_on"


@admin.register(Incident)
class IncidentAdmin(ReadOnlyHistoryAdmin):
    """Reported, suspended and closed on the portal's pages (5.2). An anonymous report shows no reporter."""

    list_display = ("reference", "nature", "system", "status", "reported_at", "closed_at")
    list_filter = ("status", "nature", "system")
    list_select_related = ("system",)
    search_fields = ("reference", "description", "corrective_action")
    date_hierarchy = "reported_at"
    exclude = ("reporter_digest",)


@admin.register(RetentionExtension)
class RetentionExtensionAdmin(ReadOnlyHistoryAdmin):
    """Asked for and decided on the portal's pages (3.11): the admin only shows extensions."""

    list_display = ("pk", "condition", "retention_days", "starts_on", "ends_on", "review_on", "status", "decided_by")
    list_filter = ("status", "condition")
    list_select_related = ("decided_by",)
    search_fields = ("area", "justification")
    date_hierarchy = "starts_on"
