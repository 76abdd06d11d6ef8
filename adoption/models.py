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
