"""Imports of a city's existing departments, people, systems and accounts, and the grants they made."""

from django.conf import settings
from django.db import models

from accounts.models import Grant


class ImportBatch(models.Model):
    """One run of the import: who ran it, when, and the SHA-256 of every file it read. It is the
    written record of the grants it made until their department's baseline validation confirms them."""

    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(auto_now_add=True)
    files = models.JSONField(default=dict, help_text="File name → SHA-256 of its contents.")
    counts = models.JSONField(default=dict, help_text="Rows created and changed, per file.")

    class Meta:
        ordering = ["-imported_at", "-id"]
        verbose_name = "import batch"
        verbose_name_plural = "import batches"

    def __str__(self):
        return f"Import of {self.imported_at:%Y-%m-%d %H:%M} by {self.imported_by}"


class AdoptedGrant(models.Model):
    """A grant that existed before the portal and came in with an import ("existing at adoption").
    accounts does not know of it; this link does."""

    grant = models.OneToOneField(Grant, primary_key=True, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="grants")

    class Meta:
        verbose_name = "grant existing at adoption"
        verbose_name_plural = "grants existing at adoption"

    def __str__(self):
        return f"{self.grant} (existing at adoption)"


class Upload(models.Model):
    """Files ITSA uploaded on the import page: kept until they are checked (a dry run, by a worker)
    and, if ITSA confirms the preview, imported (by a worker too: a city takes longer than a request may).
    The contents are kept so that what is imported is exactly what was previewed."""

    class Status(models.TextChoices):
        CHECKING = "checking", "Being checked"
        CHECKED = "checked", "Checked"
        IMPORTING = "importing", "Being imported"
        IMPORTED = "imported", "Imported"
        FAILED = "failed", "Not imported"

    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CHECKING)
    files = models.JSONField(default=dict, help_text="File name → SHA-256 of its contents.")
    totals = models.JSONField(default=dict, help_text="Rows per outcome (create, change, unchanged, refused).")
    per_file = models.JSONField(default=dict, help_text="File name → rows per outcome.")
    shown_rows = models.JSONField(default=list, help_text="The refused rows, then the first rows to write.")
    report = models.TextField(blank=True, help_text="Every row's outcome, as CSV.")
    message = models.TextField(blank=True)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True,
                                    blank=True)
    batch = models.OneToOneField(ImportBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="upload")
    validations = models.JSONField(default=list, help_text="The baseline validations the import opened (ids).")

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self):
        return f"Upload {self.pk} of {self.uploaded_at:%Y-%m-%d %H:%M} by {self.uploaded_by}"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("adoption:upload", kwargs={"pk": self.pk})

    @property
    def is_working(self) -> bool:
        return self.status in (self.Status.CHECKING, self.Status.IMPORTING)

    @property
    def may_import(self) -> bool:
        return self.status == self.Status.CHECKED and not self.totals.get("refused") and bool(
            self.totals.get("create") or self.totals.get("change"))


class UploadFile(models.Model):
    """One uploaded file's bytes."""

    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="contents")
    name = models.CharField(max_length=40)
    content = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["upload", "name"], name="one_file_of_each_name_per_upload")]
