"""Tokens of the integrations that call the API: one per system or script, with the scopes it needs."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from accounts.models import SurveillanceSystem


class Scope(models.TextChoices):
    READ = "read", "Read rosters: systems, departments, people, grants, requests, validations"
    REPORT_USE = "report_use", "Report when accounts were last used"
    PROVISION = "provision", "Mark approved requests provisioned or returned (ITSA's queue)"


class ApiToken(models.Model):
    """A token acts as the ITSA administrator who created it, and sees and does through the API only
    what that person may on the pages, narrowed to its scopes (and to one system when it names one).
    Only a hash of the secret is kept: the secret is shown once, when the token is made."""

    name = models.CharField(max_length=100, help_text="What calls with it, e.g. “LPR vendor sync”.")
    scopes = models.JSONField(default=list)
    system = models.ForeignKey(SurveillanceSystem, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+", help_text="Only this system's records, when set.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_on = models.DateField()
    prefix = models.CharField(max_length=12, unique=True, help_text="The public start of the secret, to find it.")
    key_hash = models.CharField(max_length=64, help_text="SHA-256 of the secret.")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self):
        return f"API token “{self.name}”"

    def get_absolute_url(self):
        return reverse("api_tokens:list") + f"#token-{self.pk}"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_on >= timezone.localdate()

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "Revoked"
        return "Expired" if self.expires_on < timezone.localdate() else "Active"
