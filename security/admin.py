from django.contrib import admin

from accounts.admin import PersonAdmin
from accounts.models import User
from portal.admin import ReadOnlyAdmin, ReadOnlyHistoryAdmin

from . import services
from .models import AccountLock, OversightAppointment, UserSession


# The people admin of accounts, and a deactivation there ends the person's sessions (S3.10): sessions
# are this app's, so the step is added here rather than in accounts.
admin.site.unregister(User)


@admin.register(User)
class SignedOutPersonAdmin(PersonAdmin):
    def save_model(self, request, obj, form, change):
        deactivated = change and "is_active" in form.changed_data and not obj.is_active
        super().save_model(request, obj, form, change)
        if deactivated:
            services.sessions_end(user=obj, reason="account deactivated", by=request.user)


@admin.register(AccountLock)
class AccountLockAdmin(ReadOnlyAdmin):
    """Written by the sign-in rules only; ITSA releases locks on the Locked accounts page."""

    list_display = ["user", "locked_at", "scope", "ip_address", "released_at", "released_by"]
    list_filter = [("released_at", admin.EmptyFieldListFilter), "scope"]
    search_fields = ["user__email", "user__full_name"]
    list_select_related = ["user", "released_by"]


@admin.register(UserSession)
class UserSessionAdmin(ReadOnlyAdmin):
    list_display = ["user", "started_at", "ip_address", "user_agent"]
    search_fields = ["user__email", "user__full_name"]
    list_select_related = ["user"]


@admin.register(OversightAppointment)
class OversightAppointmentAdmin(ReadOnlyHistoryAdmin):
    """Asked, decided and ended on the Oversight appointments page (security.oversight) only."""

    list_display = ["person", "body", "status", "ends_on", "requested_by", "decided_by"]
    list_filter = ["status"]
    search_fields = ["person__email", "person__full_name", "body"]
    list_select_related = ["person", "requested_by", "decided_by"]
