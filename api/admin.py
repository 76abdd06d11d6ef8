"""Admin for API tokens: it only shows them. A token is made on ITSA's token page, through the
service that shows its secret once; the admin could not."""

from django.contrib import admin

from portal.admin import ReadOnlyAdmin

from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ("name", "system", "created_by", "created_at", "expires_on", "last_used_at", "revoked_at")
    list_select_related = ("system", "created_by")
    search_fields = ("name", "prefix", "created_by__full_name", "created_by__email")
    date_hierarchy = "created_at"
    exclude = ("key_hash",)
