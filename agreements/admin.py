"""Admin for information sharing agreements: it only shows them; the rules live on the portal's pages."""

from django.contrib import admin

from portal.admin import ReadOnlyHistoryAdmin

from .models import AgreementGrant, SharingAgreement


@admin.register(SharingAgreement)
class SharingAgreementAdmin(ReadOnlyHistoryAdmin):
    """Asked for, approved and ended on the portal's pages (3.7): the admin only shows agreements."""

    list_display = ("third_party", "category", "department", "starts_on", "ends_on", "status", "decided_by")
    list_filter = ("status", "category", "department")
    list_select_related = ("department", "decided_by")
    search_fields = ("third_party", "shared", "conditions")
    date_hierarchy = "starts_on"


@admin.register(AgreementGrant)
class AgreementGrantAdmin(ReadOnlyHistoryAdmin):
    """ITSA gives a third party's person access on the agreement's page, which makes the grant and
    this link together."""

    list_display = ("grant", "agreement")
    list_filter = ("agreement__status",)
    list_select_related = ("grant__person", "grant__system", "agreement")
    search_fields = ("grant__person__full_name", "grant__person__email", "grant__account_name", "agreement__third_party")
