"""Information sharing agreements with third-party public safety organizations (3.7, Table 2), and
the grants that rest on them."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from accounts.models import Department, Grant, SurveillanceSystem
from portal.decisions import AskAndDecide
from portal.history import AppendOnlyHistoricalRecords, history_user
from portal.table2 import Category as Table2Category

# Section 3.7: "As it relates to public safety": the only intended use of Table 1 a third party's
# view-only grant may serve.
PUBLIC_SAFETY = "public-safety"


class SharingAgreement(AskAndDecide):
    """An information sharing agreement with a third-party public safety organization (3.7, Table 2).

    A city department sponsors it and asks for it; the Mayor approves it, and the Mayor's designee
    records that approval. Its third-party people get view-only grants, only while it is in force:
    from `starts_on` to 00:00, city time, on `ends_on`."""

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting the Mayor's approval"
        APPROVED = "approved", "Approved"
        DENIED = "denied", "Denied"
        ENDED = "ended", "Ended"

    third_party = models.CharField("third party", max_length=150)
    category = models.CharField("Table 2 category", max_length=30, choices=Table2Category.choices)
    shared = models.TextField("what is shared")
    conditions = models.TextField()
    excludes_biometric = models.BooleanField("biometric data excluded", default=True)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="sharing_agreements",
        help_text="The city department that sponsors the agreement and answers for its third-party grants.",
    )
    systems = models.ManyToManyField(SurveillanceSystem, related_name="sharing_agreements")
    # The grants under the agreement, through the links below; accounts does not know of them.
    grants = models.ManyToManyField(Grant, through="AgreementGrant", related_name="+")
    starts_on = models.DateField()
    ends_on = models.DateField(help_text="The agreement ends at 00:00, city time, on this day.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    # Unlike the shared block's auto_now_add, an agreement's request time can be given.
    requested_at = models.DateTimeField(default=timezone.now)
    mayor_approved_on = models.DateField("date of the Mayor's approval", null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Empty when the agreement ran out on its end date.",
    )
    end_reason = models.TextField(blank=True)

    # The model moved here from accounts and kept its tables.
    history = AppendOnlyHistoricalRecords(get_user=history_user, m2m_fields=[systems],
                                          table_name="accounts_historicalsharingagreement")

    class Meta:
        db_table = "accounts_sharingagreement"
        ordering = ["-starts_on", "third_party", "-id"]
        verbose_name = "information sharing agreement"

    def __str__(self):
        return f"{self.third_party} ({self.get_category_display()})"

    def get_absolute_url(self):
        return reverse("agreements:detail", args=[self.pk])

    def is_in_force(self, on=None) -> bool:
        on = on or timezone.localdate()
        return self.status == self.Status.APPROVED and self.starts_on <= on < self.ends_on


class AgreementGrant(models.Model):
    """A grant that rests on an information sharing agreement (3.7): a third party's person's
    view-only end-user access, which ends with the agreement. Made once, with the grant, and never
    changed; its history says who gave the access under which agreement."""

    grant = models.OneToOneField(Grant, primary_key=True, on_delete=models.PROTECT, related_name="+")
    agreement = models.ForeignKey(SharingAgreement, on_delete=models.PROTECT, related_name="grant_links")

    history = AppendOnlyHistoricalRecords(get_user=history_user)

    class Meta:
        verbose_name = "grant under an information sharing agreement"
        verbose_name_plural = "grants under information sharing agreements"

    def __str__(self):
        return f"{self.grant} under the agreement with {self.agreement.third_party}"
