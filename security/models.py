"""What sign-in needs beyond Django's own tables: account locks, the sessions of each person, and the
appointments that give the read-only oversight role."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from accounts.models import User
from portal.decisions import AskAndDecide
from portal.history import AppendOnlyHistoricalRecords, history_user


class AccountLock(models.Model):
    """An account locked after repeated failed sign-ins, from one address or from every address; it
    stays locked until ITSA releases it."""

    class Scope(models.TextChoices):
        ADDRESS = "address", "From one address"
        ACCOUNT = "account", "From every address"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_locks")
    locked_at = models.DateTimeField(auto_now_add=True)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.ACCOUNT)
    # The address locked out (scope "address"), or the one of the failure that locked the account.
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-locked_at", "-id"]
        constraints = [
            # One open lock per person and address, and one of the whole account: a second lockout
            # while locked adds nothing.
            models.UniqueConstraint(fields=["user"], condition=models.Q(released_at__isnull=True, scope="account"),
                                    name="one_open_account_lock_per_person"),
            models.UniqueConstraint(fields=["user", "ip_address"],
                                    condition=models.Q(released_at__isnull=True, scope="address"),
                                    name="one_open_lock_per_person_and_address"),
        ]

    def __str__(self):
        return f"{self.user} locked {self.locked_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.released_at is None

    @property
    def where(self) -> str:
        """Where the lock refuses sign-ins, in words."""
        if self.scope == self.Scope.ACCOUNT:
            return "from every address"
        return f"from {self.ip_address or 'an unknown address'} only"


class UserSession(models.Model):
    """A signed-in session of a person, so that their sessions can be ended at once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    started_at = models.DateTimeField(auto_now_add=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"{self.user} since {self.started_at:%Y-%m-%d %H:%M}"


class OversightAppointment(AskAndDecide):
    """A person appointed to read every department's records and change nothing: the city's internal
    auditor, a member of a civilian oversight board. ITSA asks, the Mayor's designee decides; the
    approval puts the person in OVERSIGHT_GROUP and the end takes them out (accounts.oversight)."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Awaiting the designee"
        ACTIVE = "active", "Active"
        REFUSED = "refused", "Refused"
        WITHDRAWN = "withdrawn", "Withdrawn"
        ENDED = "ended", "Ended"

    person = models.ForeignKey(User, on_delete=models.PROTECT, related_name="oversight_appointments")
    body = models.CharField(
        "oversight body", max_length=150,
        help_text="Who the person reads for, e.g. the Office of the Internal Auditor or the Civilian Oversight Board.",
    )
    purpose = models.TextField(help_text="Why the person needs to read every department's records.")
    ends_on = models.DateField(
        null=True, blank=True, help_text="The last day of the appointment, if it has one. It ends by itself then.",
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROPOSED)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Empty when the appointment ended by itself on its last day.",
    )
    end_reason = models.TextField(blank=True)

    history = AppendOnlyHistoricalRecords(get_user=history_user)

    OPEN_STATUSES = (Status.PROPOSED, Status.ACTIVE)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["person"], condition=Q(status__in=["proposed", "active"]),
                                    name="one_open_oversight_appointment_per_person"),
        ]

    def __str__(self):
        return f"Oversight: {self.person} ({self.body})"

    def get_absolute_url(self):
        return reverse("security:oversight", args=[self.pk])
