"""Department access, end-user access requests, their documents, and status-change reports."""

import hashlib
import os
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from accounts.models import Department, Grant, SurveillanceSystem, User
from portal.decisions import AskAndDecide
from portal.history import AppendOnlyHistoricalRecords, history_user
from portal.models import AppendOnlyQuerySet, IntendedUse, PermissibleUse


class DepartmentAccess(AskAndDecide):
    """A department's authorization to use a system for given intended uses (3.4)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting the Mayor's designee"
        GRANTED = "granted", "Granted"
        DENIED = "denied", "Denied"
        WITHDRAWN = "withdrawn", "Withdrawn"
        REVOKED = "revoked", "Revoked"

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="system_access")
    system = models.ForeignKey(SurveillanceSystem, on_delete=models.PROTECT, related_name="department_access")
    intended_uses = models.ManyToManyField(IntendedUse, related_name="+")
    business_need = models.TextField(help_text="The business need, tied to the services the department delivers.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The Mayor's designee who took the access back.",
    )
    revoke_reason = models.TextField(blank=True, help_text="Why the Mayor's designee revoked it.")

    history = AppendOnlyHistoricalRecords(get_user=history_user, m2m_fields=[intended_uses])

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = "department access"
        verbose_name_plural = "department access"
        constraints = [
            # One open or granted authorization per department and system.
            models.UniqueConstraint(
                fields=["department", "system"],
                condition=Q(status__in=["pending", "granted"]),
                name="one_open_department_access",
            ),
        ]

    def __str__(self):
        return f"{self.department} → {self.system} ({self.get_status_display()})"

    def get_absolute_url(self):
        return reverse("requests:department_access", args=[self.pk])

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def is_granted(self) -> bool:
        return self.status == self.Status.GRANTED


class AccessRequest(models.Model):
    """A written request to add, change or remove one person's access to one system (3.4–3.5)."""

    class Action(models.TextChoices):
        ADD = "add", "Add access"
        CHANGE = "change", "Change role or uses"
        REMOVE = "remove", "Remove access"
        SUSPEND = "suspend", "Suspend access"
        # Filed only by a return from leave (StatusChange.Kind.RETURNED), never on the request form.
        REINSTATE = "reinstate", "Reinstate access"

    class Status(models.TextChoices):
        AWAITING_HEAD = "awaiting_head", "Awaiting the head's approval"
        WITH_ITSA = "with_itsa", "Approved — with ITSA"
        COMPLETED = "completed", "Completed by ITSA"
        RETURNED = "returned", "Returned by ITSA"
        DECLINED = "declined", "Declined by the head"
        WITHDRAWN = "withdrawn", "Withdrawn"

    OPEN_STATUSES = (Status.AWAITING_HEAD, Status.WITH_ITSA)
    # What a department files on the request form: a reinstatement follows a return from leave.
    FILED_ACTIONS = (Action.ADD, Action.CHANGE, Action.REMOVE, Action.SUSPEND)

    reference = models.CharField(max_length=20, unique=True, editable=False)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="access_requests")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_requests")
    system = models.ForeignKey(SurveillanceSystem, on_delete=models.PROTECT, related_name="access_requests")
    action = models.CharField(max_length=10, choices=Action.choices)
    role = models.CharField(max_length=14, choices=Grant.Role.choices)
    permissible_uses = models.ManyToManyField(PermissibleUse, related_name="+", blank=True)
    justification = models.TextField()
    condition_statement = models.TextField(
        "how the conditions are met", blank=True,
        help_text="For uses whose Table 1 conditions need it (T1c): the case, direction, property or order, "
                  "and its end.",
    )
    ends_on = models.DateField(
        "temporary access ends", null=True, blank=True,
        help_text="For temporary access (Definitions: under 30 days): access ends at 00:00, city time, on this "
                  "day. Empty for access without an end date.",
    )
    grant = models.ForeignKey(
        Grant, null=True, blank=True, on_delete=models.PROTECT, related_name="requests",
        help_text="The grant this request changes or removes, or the one its provisioning created.",
    )
    status_change = models.ForeignKey(
        "StatusChange", null=True, blank=True, on_delete=models.PROTECT, related_name="requests"
    )

    # The written request, frozen at submission: what was asked, in words, and its fingerprint.
    written_text = models.TextField(editable=False)
    written_sha256 = models.CharField(max_length=64, editable=False)

    status = models.CharField(max_length=14, choices=Status.choices, db_index=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    head_reason = models.TextField(blank=True)
    processed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    processed_at = models.DateTimeField(null=True, blank=True)
    account_name = models.CharField(max_length=150, blank=True)
    return_reason = models.TextField(blank=True)
    grant_status_before = models.CharField(
        "grant's status before", max_length=10, choices=Grant.Status.choices, blank=True, editable=False,
        help_text="The grant's status when ITSA carried the request out: a suspension that found the grant "
                  "already suspended did not suspend it. Empty for a new grant.",
    )

    history = AppendOnlyHistoricalRecords(get_user=history_user, m2m_fields=[permissible_uses])

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["person", "system", "status"]),
            # The ITSA queue in its order, and a department's requests newest first: without them
            # PostgreSQL joined and sorted every matching request to show 25 (bench/README.md).
            models.Index(fields=["status", "approved_at", "id"], name="request_queue_order"),
            models.Index(fields=["department", "-submitted_at", "-id"], name="request_department_newest"),
            # A department's requests in one status, newest first (what waits for the head, a list
            # narrowed to a status). The prepared statement's generic plan cannot tell a rare status
            # from a common one, and without this index walked the whole department newest first.
            models.Index(fields=["department", "status", "-submitted_at", "-id"],
                         name="request_department_status"),
        ]

    def __str__(self):
        return f"{self.reference}: {self.get_action_display()} — {self.person} on {self.system}"

    def get_absolute_url(self):
        return reverse("requests:detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_awaiting_head(self) -> bool:
        return self.status == self.Status.AWAITING_HEAD

    @property
    def is_with_itsa(self) -> bool:
        return self.status == self.Status.WITH_ITSA

    @property
    def adds_access(self) -> bool:
        """Access given or given back: the department must still be authorized for the system."""
        return self.action in (self.Action.ADD, self.Action.CHANGE, self.Action.REINSTATE)

    @classmethod
    def grant_statement(cls, grant_ref) -> models.Subquery:
        """The condition statement behind a grant's uses (T1c): that of the last completed request that
        created or changed it. An annotation, so a list of grants reads it without a query each."""
        return models.Subquery(
            cls.objects.filter(grant=grant_ref, status=cls.Status.COMPLETED,
                               action__in=[cls.Action.ADD, cls.Action.CHANGE])
            .order_by("-processed_at", "-pk").values("condition_statement")[:1]
        )


class WrittenRequestQuerySet(AppendOnlyQuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        # Each record is made by access_request_submit from the rendered document.
        self._refuse()


class WrittenRequest(models.Model):
    """The written request as filed (3.4): the PDF made at submission and its SHA-256.

    Kept in the database, in the same transaction as the request, so a request never exists without
    its document. Written once: the ORM refuses changes, and on PostgreSQL a trigger does too."""

    request = models.OneToOneField(AccessRequest, on_delete=models.PROTECT, primary_key=True, related_name="written")
    pdf = models.BinaryField(editable=False)
    sha256 = models.CharField("SHA-256", max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WrittenRequestQuerySet.as_manager()

    class Meta:
        verbose_name = "written request (PDF)"
        verbose_name_plural = "written requests (PDF)"

    def __str__(self):
        return f"Written request {self.request_id}"

    @property
    def filename(self) -> str:
        return f"{self.request.reference}.pdf"

    def is_intact(self) -> bool:
        return hashlib.sha256(bytes(self.pdf)).hexdigest() == self.sha256

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("A written request is kept as it was filed.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("A written request is kept as it was filed.")


# The kinds of file kept as supporting documents, by the type detected from their content: the
# name people know them by, and the extensions such a file may be named with (the usual one first).
DOCUMENT_TYPES = {
    "application/pdf": ("PDF", (".pdf",)),
    "image/png": ("PNG", (".png",)),
    "image/jpeg": ("JPEG", (".jpg", ".jpeg")),
}


def _document_path(instance, filename):
    # Generated names only: nothing the uploader typed reaches the file system.
    return f"requests/{instance.request_id}/{uuid.uuid4().hex}"


class SupportingDocument(models.Model):
    """A signed copy, a memo: forwarded to ITSA with the request (3.5)."""

    request = models.ForeignKey(AccessRequest, on_delete=models.PROTECT, related_name="documents")
    file = models.FileField(upload_to=_document_path, max_length=200)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.original_name

    def get_absolute_url(self):
        return reverse("requests:document", args=[self.request_id, self.pk])

    @property
    def download_name(self) -> str:
        """The uploader's name, ending as the content's type does: a PDF kept as `invoice.exe` (before
        names were checked against content) downloads as `invoice.pdf`, never as a program."""
        stem, extension = os.path.splitext(self.original_name)
        extensions = DOCUMENT_TYPES[self.content_type][1]
        return self.original_name if extension.lower() in extensions else f"{stem or 'document'}{extensions[0]}"


class StatusChange(models.Model):
    """The head tells ITSA that a person left, transferred, went on leave or returned from it (3.5)."""

    class Kind(models.TextChoices):
        LEFT = "left", "Left the city"
        TRANSFERRED = "transferred", "Transferred to another department"
        ON_LEAVE = "on_leave", "On leave"
        RETURNED = "returned", "Returned from leave"

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="status_changes")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="status_changes")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    effective_date = models.DateField()
    note = models.TextField(blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField(auto_now_add=True)

    history = AppendOnlyHistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["-reported_at", "-id"]

    def __str__(self):
        return f"{self.person}: {self.get_kind_display()} from {self.effective_date}"

    @property
    def grant_action(self) -> str:
        """Leave suspends access; a return from leave reinstates what the leave suspended; leaving or
        transferring removes it."""
        return {self.Kind.ON_LEAVE: AccessRequest.Action.SUSPEND,
                self.Kind.RETURNED: AccessRequest.Action.REINSTATE}.get(self.kind, AccessRequest.Action.REMOVE)

    @property
    def employment_status(self) -> str:
        """The person's employment status once the change is made: back from leave is active."""
        return User.EmploymentStatus.ACTIVE if self.kind == self.Kind.RETURNED else self.kind


class RosterRun(models.Model):
    """An HR roster applied: its SHA-256 makes the same file a second time a no-op, unless rows of it
    that waited for their effective date have come due since (`pending_from`)."""

    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, unique=True)
    applied_at = models.DateTimeField(auto_now_add=True)
    counts = models.JSONField(default=dict, help_text="The counts of the latest run of the file.")
    applied_through = models.DateField(
        null=True, blank=True, help_text="The day of the latest run: rows dated up to it have been applied.",
    )
    pending_from = models.DateField(
        null=True, blank=True, help_text="The earliest effective date still in the future at the latest run.",
    )

    class Meta:
        ordering = ["-applied_at", "-id"]

    def __str__(self):
        return f"{self.file_name} ({self.sha256[:12]})"
