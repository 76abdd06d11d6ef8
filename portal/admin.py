"""The admin for ITSA superusers, with the same rules as the pages.

Anything a service guards is read-only here, or saved through that service. History is shown,
never reverted: a revert would write an old row back past every rule.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from simple_history.admin import SimpleHistoryAdmin

from .errors import RuleViolation
from .models import (AuditAnchor, AuditChainHead, AuditEvent, IntendedUse, OutgoingEmail, PermissibleUse,
                     PolicyChange, PolicyVersion)
from .policy import (policy_change_add, policy_change_remove, policy_version_delete, policy_version_publish,
                     policy_version_save)


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
    fields = ("seq", "hash", "mac")
    readonly_fields = fields


@admin.register(AuditAnchor)
class AuditAnchorAdmin(ReadOnlyAdmin):
    """Each day's last entry, as published on the transparency page; only the nightly task adds one."""

    list_display = ("day", "seq", "hash")
    date_hierarchy = "day"
    fields = ("day", "seq", "hash", "mac")
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


# --- Policy versions (2.4): drafted here, published through portal.policy ---------------------------

_POLICY_REFUSED = "_portal_policy_refused"


class PolicyChangeInline(admin.TabularInline):
    """The change log as recorded; a draft's entries may be taken out, never edited in place."""

    model = PolicyChange
    fields = ("section", "description", "substantive")
    readonly_fields = fields
    extra = 0
    verbose_name_plural = "change log"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return obj is not None and not obj.is_published


class NewPolicyChangeInline(admin.TabularInline):
    """New entries of a draft's change log, each added through policy_change_add."""

    model = PolicyChange
    fields = ("section", "description", "substantive")
    extra = 1
    verbose_name = "new change"
    verbose_name_plural = "add changes"

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def has_add_permission(self, request, obj=None):
        return obj is None or not obj.is_published

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    """Drafts are edited here through portal.policy; the publish action checks S2.4. A published
    version is read-only: its change log is what the public page shows."""

    list_display = ("number", "title", "effective_on", "status", "mayor_approved_on", "aldermen_notified_on",
                    "published_at")
    list_filter = ("status",)
    search_fields = ("number", "title", "summary")
    fields = ("number", "title", "summary", "effective_on", "mayor_approved_on", "aldermen_notified_on", "status",
              "published_at", "published_by")
    inlines = [PolicyChangeInline, NewPolicyChangeInline]
    actions = ["publish"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_published:
            return self.fields
        return ("status", "published_at", "published_by")

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or not obj.is_published)

    def has_delete_permission(self, request, obj=None):
        # Only one draft at a time, from its own page: a bulk delete could take a published version.
        return super().has_delete_permission(request, obj) and obj is not None and not obj.is_published

    def _refused(self, request, refusal):
        setattr(request, _POLICY_REFUSED, True)
        self.message_user(request, f"Nothing was saved: {refusal.message}", messages.ERROR)

    def save_model(self, request, obj, form, change):
        try:
            policy_version_save(version=obj, by=request.user)
        except RuleViolation as refusal:
            self._refused(request, refusal)

    def save_related(self, request, form, formsets, change):
        if getattr(request, _POLICY_REFUSED, False):
            return
        form.save_m2m()
        for formset in formsets:
            self.save_formset(request, form, formset, change)

    def save_formset(self, request, form, formset, change):
        entries = formset.save(commit=False)
        try:
            for change_entry in formset.deleted_objects:
                policy_change_remove(change=change_entry, by=request.user)
            for entry in entries:
                if entry.pk is None:
                    policy_change_add(version=form.instance, section=entry.section, description=entry.description,
                                      substantive=entry.substantive, by=request.user)
        except RuleViolation as refusal:
            self._refused(request, refusal)

    def log_addition(self, request, obj, message):
        if not getattr(request, _POLICY_REFUSED, False):
            return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        if not getattr(request, _POLICY_REFUSED, False):
            return super().log_change(request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, _POLICY_REFUSED, False):
            return HttpResponseRedirect(request.path)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if getattr(request, _POLICY_REFUSED, False):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    @admin.action(description="Publish the selected versions")
    def publish(self, request, queryset):
        for version in queryset:
            try:
                policy_version_publish(version=version, by=request.user)
            except RuleViolation as refusal:
                self.message_user(request, refusal.message, messages.ERROR)
            else:
                self.message_user(request, f"Version {version.number} is published.", messages.SUCCESS)

    def delete_model(self, request, obj):
        try:
            policy_version_delete(version=obj, by=request.user)
        except RuleViolation as refusal:
            # Published since the page was opened, or not the person's to delete.
            raise PermissionDenied(refusal.message) from refusal


@admin.register(PolicyChange)
class PolicyChangeAdmin(ReadOnlyAdmin):
    """Every entry of every change log; entries are added on their version's page."""

    list_display = ("version", "section", "substantive", "description")
    list_filter = ("substantive", "version")
    list_select_related = ("version",)
    search_fields = ("section", "description", "version__number")
    fields = ("version", "section", "description", "substantive")
    readonly_fields = fields
