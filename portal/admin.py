"""The admin for ITSA superusers, with the same rules as the pages.

Anything a service guards is read-only here, or saved through that service. History is shown,
never reverted: a revert would write an old row back past every rule.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from simple_history.admin import SimpleHistoryAdmin

from .models import AuditChainHead, AuditEvent, IntendedUse, OutgoingEmail, PermissibleUse


class HistoryAdmin(SimpleHistoryAdmin):
    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # simple_history saves a posted old version without asking for the change permission.
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Seen here, changed only through the portal's services or a migration."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyHistoryAdmin(ReadOnlyAdmin, HistoryAdmin):
    pass


class PermissibleUseInline(admin.TabularInline):
    model = PermissibleUse
    fields = ("position", "code", "name")
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(IntendedUse)
class IntendedUseAdmin(ReadOnlyAdmin):
    """Table 1 changes through migrations, so every version stays in the code's history."""

    list_display = ("name", "code", "position")
    search_fields = ("name", "code", "policy", "conditions")
    inlines = [PermissibleUseInline]


@admin.register(PermissibleUse)
class PermissibleUseAdmin(ReadOnlyAdmin):
    list_display = ("name", "intended_use", "code")
    list_filter = ("intended_use",)
    list_select_related = ("intended_use",)
    search_fields = ("name", "code", "intended_use__name")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit trail is append-only: nobody adds, changes or deletes an event, here or anywhere."""

    list_display = ("seq", "at", "action", "outcome", "actor", "target", "ip_address")
    list_filter = ("outcome", "action")
    list_select_related = ("actor",)
    search_fields = ("action", "target", "detail", "actor__email", "actor__full_name", "ip_address")
    date_hierarchy = "at"
    fields = ("seq", "at", "actor", "action", "outcome", "target", "ip_address", "detail", "prev_hash", "hash")
    readonly_fields = fields


@admin.register(AuditChainHead)
class AuditChainHeadAdmin(ReadOnlyAdmin):
    """The last link of the audit chain; only appending an audit event moves it."""

    list_display = ("seq", "hash")
    fields = ("seq", "hash")
    readonly_fields = fields


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(ReadOnlyAdmin):
    """The outbox: every mail the portal sent or still has to send, and why a late one is late."""

    list_display = ("created_at", "subject", "sent_at", "attempts", "next_attempt_at")
    list_filter = (("sent_at", admin.EmptyFieldListFilter),)
    search_fields = ("subject", "to", "last_error")
    date_hierarchy = "created_at"
    fields = ("created_at", "to", "subject", "body", "sent_at", "attempts", "last_error", "next_attempt_at")
    readonly_fields = fields
