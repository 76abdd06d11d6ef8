"""What every app shares: the policy registry (Table 1) and the append-only audit trail."""

from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.utils import timezone

from .table1 import CONDITION_STATEMENTS


class IntendedUse(models.Model):
    """A row of Table 1: an intended use, the policy that allows it and its conditions."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    policy = models.TextField()
    conditions = models.TextField(help_text="The conditions of Table 1, one per line.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name

    def condition_list(self) -> list[str]:
        return [line for line in self.conditions.splitlines() if line.strip()]

    @property
    def statement_prompt(self) -> str:
        """What a request naming this use states to show its condition is met; empty if nothing (T1c)."""
        return CONDITION_STATEMENTS.get(self.code, "")


class PermissibleUse(models.Model):
    """One permissible use listed under an intended use in Table 1."""

    intended_use = models.ForeignKey(IntendedUse, on_delete=models.PROTECT, related_name="permissible_uses")
    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["intended_use__position", "position"]

    def __str__(self):
        return f"{self.intended_use.name}: {self.name}"


class AppendOnlyQuerySet(models.QuerySet):
    """No bulk change either: the admin's "delete selected" and `.update()` go through here."""

    def _refuse(self):
        raise PermissionError(f"{self.model._meta.verbose_name_plural.capitalize()} are append-only.")

    def update(self, **kwargs):
        self._refuse()

    def delete(self):
        self._refuse()

    def bulk_update(self, objs, fields, batch_size=None):
        self._refuse()


class AuditEventQuerySet(AppendOnlyQuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        # Rows written in bulk would skip the chain: each entry goes through `audit_record`.
        self._refuse()


AUDIT_CHAIN_GENESIS = "0" * 64


class AuditEvent(models.Model):
    """An append-only record of a security-relevant event: who, what, when, from where, outcome.

    Entries form a hash chain (see `portal.audit`): `seq` counts them from 1 without gaps, and
    `hash` covers the entry and the `prev_hash` of the entry before it."""

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        DENIED = "denied", "Denied"
        REFUSED = "refused", "Refused by a rule"

    seq = models.PositiveBigIntegerField("sequence number", unique=True, editable=False)
    # Set by `audit_record`, in UTC, before the hash is computed over it.
    at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=60, db_index=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.SUCCESS)
    target = models.CharField(max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.TextField(blank=True)
    prev_hash = models.CharField("hash of the previous entry", max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target} ({self.outcome})"

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise PermissionError("Audit events are append-only.")
        if self.seq is None or not self.hash:
            raise PermissionError("Write audit events with portal.audit.audit_record: it chains them.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only.")


class AuditChainHead(models.Model):
    """The last link of the audit chain, in one row: appends lock it, so entries get their numbers
    one at a time, and `verify_audit_log` compares it with the last entry to notice a cut tail.

    `mac` is keyed like the entries (`portal.audit.chain_head_mac`): a head put back by someone
    without the key, to match a cut tail, does not verify."""

    seq = models.PositiveBigIntegerField("last sequence number", default=0)
    hash = models.CharField("hash of the last entry", max_length=64, default=AUDIT_CHAIN_GENESIS)
    mac = models.CharField("HMAC of the number and the hash", max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = "audit chain head"
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_chain_head_single_row")]

    def __str__(self):
        return f"Audit chain at entry {self.seq}"


class AuditAnchor(models.Model):
    """The last entry of the audit chain at the end of a day, city time: its number and hash, published
    on the transparency page and mailed to ITSA every night (`portal.audit.audit_anchors_publish`).

    Whoever keeps a copy can later have `verify_audit_log --anchor SEQ:HASH` prove that the trail
    still holds that entry and everything after it: a trail cut or rewritten since does not."""

    day = models.DateField(unique=True)
    seq = models.PositiveBigIntegerField("sequence number")
    hash = models.CharField(max_length=64)
    mac = models.CharField("HMAC of the day, the number and the hash", max_length=64, editable=False)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-day"]

    def __str__(self):
        return f"Audit trail on {self.day}: entry {self.seq}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Audit anchors are append-only.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit anchors are append-only.")


class OutgoingEmail(models.Model):
    """A mail written in the same transaction as the change it reports (the outbox).

    A rolled-back change leaves no mail; a committed one always has its mail here, even when the
    broker was down at the commit: the periodic sweep sends what the worker never got."""

    subject = models.TextField()
    body = models.TextField()
    html = models.TextField()
    to = models.JSONField()
    # Files sent with the mail: [{"filename", "content_type", "content" (base64)}], kept with it until it goes.
    attachments = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["created_at"], condition=models.Q(sent_at__isnull=True), name="outgoing_email_unsent"),
        ]

    def __str__(self):
        return f"{self.subject} → {', '.join(self.to)}"

    @property
    def message_id(self) -> str:
        """The same Message-ID at every attempt: a mail sent twice after a crash is one mail to the
        reader's client, and can be counted once."""
        return f"<outbox-{self.pk}.{self.created_at:%Y%m%d%H%M%S}@{urlsplit(settings.PORTAL_BASE_URL).hostname}>"

    @property
    def is_sent(self) -> bool:
        return self.sent_at is not None


SUBSTANTIVE_HELP = (
    "A substantive revision is any revision that adds, alters or eliminates an intended use, permissible use "
    "and/or condition (Definitions). It must be approved by the Mayor and notified to the Board of Aldermen "
    "before it is published (Section 2.4)."
)


class PolicyVersion(models.Model):
    """A version of the policy as the Mayor's designee published it, with its change log (2.4).

    Published versions never change: `portal.policy` refuses it, and the admin shows them read-only."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    number = models.CharField(max_length=20, unique=True, help_text='For example "1.0" or "1.1".')
    title = models.CharField(max_length=200)
    summary = models.TextField(help_text="What this version is and what it changes, for the public.")
    effective_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, editable=False)
    mayor_approved_on = models.DateField(
        "approved by the Mayor on", null=True, blank=True,
        help_text="Required before a version with a substantive revision is published.",
    )
    aldermen_notified_on = models.DateField(
        "Board of Aldermen notified on", null=True, blank=True,
        help_text="Required before a version with a substantive revision is published.",
    )
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    aldermen_notice_sent_at = models.DateTimeField(
        "notice to the Board of Aldermen sent at", null=True, blank=True, editable=False,
        help_text="When the portal e-mailed the Board of Aldermen the substantive changes, on publishing.",
    )

    class Meta:
        ordering = ["-effective_on", "-id"]

    def __str__(self):
        return f"Policy version {self.number}"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def has_substantive_change(self) -> bool:
        # Iterates the change log rather than asking the database: the public page prefetches it.
        return any(change.substantive for change in self.changes.all())


class PolicyChange(models.Model):
    """One entry of a version's change log: the section it touches and whether it is substantive."""

    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="changes")
    section = models.CharField(max_length=20, help_text='The section or table it changes, for example "2.2".')
    description = models.TextField()
    substantive = models.BooleanField(help_text=SUBSTANTIVE_HELP)

    class Meta:
        ordering = ["version", "id"]

    def __str__(self):
        kind = "Substantive" if self.substantive else "Non-substantive"
        return f"{self.version.number} §{self.section} ({kind.lower()})"
