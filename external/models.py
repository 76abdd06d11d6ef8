"""External system connections (3.6): a department asks to connect an external system to city
surveillance systems, and the Mayor's designee decides."""

from django.db import models
from django.urls import reverse

from accounts.models import Department, SurveillanceSystem
from portal.decisions import AskAndDecide
from portal.history import AppendOnlyHistoricalRecords, history_user
from portal.models import PermissibleUse


class ExternalConnection(AskAndDecide):
    """A request to connect an external system to city surveillance systems (3.6).

    It names the external system's owner, how it connects (only secure web services or APIs, or a
    secure network connection), and the business reasons tied to the permissible uses of Table 1.
    The Mayor's designee approves or denies it; an approved connection ends at 00:00, city time, on
    `ends_on`, and comes up for renewal before then (a renewal is a new request that `renews` it)."""

    class Method(models.TextChoices):
        SECURE_API = "secure_api", "Secure web service or API"
        SECURE_NETWORK = "secure_network", "Secure network connection"

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting the Mayor's designee"
        APPROVED = "approved", "Approved"
        DENIED = "denied", "Denied"
        WITHDRAWN = "withdrawn", "Withdrawn"
        EXPIRED = "expired", "Ended"

    name = models.CharField("external system", max_length=150)
    owner = models.CharField(max_length=150, help_text="Who owns and operates the external system.")
    owner_contact = models.EmailField("owner's contact", blank=True)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="external_connections",
        help_text="The city department that asks for the connection and answers for it.",
    )
    systems = models.ManyToManyField(SurveillanceSystem, related_name="external_connections")
    permissible_uses = models.ManyToManyField(PermissibleUse, related_name="+")
    business_reasons = models.TextField(help_text="Why, in terms of the permissible uses named (3.6).")
    method = models.CharField("how it connects", max_length=20, choices=Method.choices)
    connection_detail = models.TextField(
        "connection details", blank=True,
        help_text="The secure connection, in words (for example the API, its authentication and encryption). "
                  "The portal never contacts it.",
    )
    starts_on = models.DateField()
    ends_on = models.DateField(help_text="The connection ends at 00:00, city time, on this day.")
    renews = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="renewals",
        help_text="The approved connection this request renews.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    renewal_notice_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    # The tables keep the names they had in the requests app, where the model began.
    history = AppendOnlyHistoricalRecords(get_user=history_user, m2m_fields=[systems, permissible_uses],
                                          excluded_fields=["renewal_notice_sent_at"],
                                          table_name="access_requests_historicalexternalconnection")

    class Meta:
        db_table = "access_requests_externalconnection"
        ordering = ["-requested_at", "-id"]
        verbose_name = "external system connection"

    def __str__(self):
        return f"{self.name} ({self.owner})"

    def get_absolute_url(self):
        return reverse("external:detail", args=[self.pk])
