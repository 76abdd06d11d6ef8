from django.contrib import admin

from portal.admin import ReadOnlyAdmin

from .models import AccountLock, UserSession


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
