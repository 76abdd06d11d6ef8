"""Admin for imports: it only shows them; imports run through ITSA's import page or the import_city command."""

from django.contrib import admin

from portal.admin import ReadOnlyAdmin

from .models import AdoptedGrant, ImportBatch, Upload, UploadFile


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = ("imported_at", "imported_by")
    list_select_related = ("imported_by",)
    search_fields = ("imported_by__full_name", "imported_by__email")
    date_hierarchy = "imported_at"


@admin.register(AdoptedGrant)
class AdoptedGrantAdmin(ReadOnlyAdmin):
    list_display = ("grant", "batch")
    list_select_related = ("grant__person", "grant__system", "batch__imported_by")
    search_fields = ("grant__person__full_name", "grant__person__email", "grant__account_name")


@admin.register(Upload)
class UploadAdmin(ReadOnlyAdmin):
    list_display = ("uploaded_at", "uploaded_by", "status", "batch")
    list_filter = ("status",)
    list_select_related = ("uploaded_by", "batch")
    search_fields = ("uploaded_by__full_name", "uploaded_by__email")
    exclude = ("report",)  # every row's outcome: the import page offers it as a download


@admin.register(UploadFile)
class UploadFileAdmin(ReadOnlyAdmin):
    list_display = ("upload", "name")
    list_select_related = ("upload__uploaded_by",)
    search_fields = ("name",)
    exclude = ("content",)
