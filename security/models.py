"""What sign-in needs beyond Django's own tables: account locks and the sessions of each person."""

from django.conf import settings
from django.db import models


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
