"""KPIs, their figures and the impact statements: read-only, with their history."""

from django.contrib import admin

from portal.admin import ReadOnlyHistoryAdmin

from .models import ImpactStatement, Kpi, KpiFigure


@admin.register(Kpi)
class KpiAdmin(ReadOnlyHistoryAdmin):
    """Proposed, decided, retired and given figures on the portal's pages (2.5): the admin only shows them."""

    list_display = ("pk", "name", "department", "system", "intended_use", "target", "unit", "direction", "status",
                    "decided_by")
    list_filter = ("status", "direction", "department")
    list_select_related = ("department", "system", "intended_use", "decided_by")
    search_fields = ("name", "measure", "department__name", "system__name")


@admin.register(KpiFigure)
class KpiFigureAdmin(ReadOnlyHistoryAdmin):
    list_display = ("pk", "kpi", "year", "value", "recorded_by", "recorded_at", "frozen_at")
    list_filter = ("year",)
    list_select_related = ("kpi__department", "kpi__system", "recorded_by")
    search_fields = ("kpi__name", "kpi__department__name")


@admin.register(ImpactStatement)
class ImpactStatementAdmin(ReadOnlyHistoryAdmin):
    list_display = ("pk", "department", "system", "intended_use", "year", "verdict", "written_by", "frozen_at")
    list_filter = ("year", "verdict", "department")
    list_select_related = ("department", "system", "intended_use", "written_by")
    search_fields = ("explanation", "department__name", "system__name")
