"""People, departments, surveillance systems, authorized requesters and grants."""

from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Trim
from django.urls import reverse
from django.utils import timezone

from portal.history import AppendOnlyHistoricalRecords, history_user

from portal.models import PermissibleUse

# City-wide roles are Django groups, so ITSA can assign them in the admin.
ITSA_GROUP = "ITSA administrators"
DESIGNEE_GROUP = "Mayor's designees"
# The two directors of Section 5.1: they grant waivers; the Director of Public Safety also extends
# retention (3.11).
SAFETY_DIRECTOR_GROUP = "Director of Public Safety"
OPERATIONS_DIRECTOR_GROUP = "City Operations Director"
CITY_ROLE_GROUPS = (ITSA_GROUP, DESIGNEE_GROUP, SAFETY_DIRECTOR_GROUP, OPERATIONS_DIRECTOR_GROUP)
# Auditors (the city's internal auditor, a civilian oversight board): they read every department's
# records and change nothing. Membership comes only from an approved OversightAppointment.
OVERSIGHT_GROUP = "Oversight (read only)"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email, password, **fields):
        if not email:
            raise ValueError("A person needs an e-mail address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **fields):
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email, password=None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **fields)

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)


class Roles:
    """What a signed-in person is, for navigation and scoping. Rules stay in the services."""

    def __init__(self, user):
        self.user = user
        # Scopes read once for this user object, i.e. once per request (accounts.selectors).
        self.kept: dict = {}

    @cached_property
    def _groups(self) -> set[str]:
        return set(self.user.groups.values_list("name", flat=True))

    @cached_property
    def is_itsa(self) -> bool:
        return ITSA_GROUP in self._groups

    @cached_property
    def is_designee(self) -> bool:
        return DESIGNEE_GROUP in self._groups

    @cached_property
    def is_safety_director(self) -> bool:
        return SAFETY_DIRECTOR_GROUP in self._groups

    @cached_property
    def is_operations_director(self) -> bool:
        return OPERATIONS_DIRECTOR_GROUP in self._groups

    @cached_property
    def is_oversight(self) -> bool:
        return OVERSIGHT_GROUP in self._groups

    @property
    def reads_every_department(self) -> bool:
        """ITSA (which provisions and audits every department, S3.5d) and oversight read every
        department's records; only ITSA acts on them."""
        return self.is_itsa or self.is_oversight

    @property
    def is_director(self) -> bool:
        """May grant waivers (5.1)."""
        return self.is_safety_director or self.is_operations_director

    @cached_property
    def headed_departments(self) -> list["Department"]:
        return list(Department.objects.filter(head=self.user))

    @cached_property
    def is_head(self) -> bool:
        return bool(self.headed_departments)

    @cached_property
    def requester_departments(self) -> list["Department"]:
        return list(
            Department.objects.filter(pk__in=AuthorizedRequester.objects.current().filter(person=self.user)
                                      .values("department"))
        )

    @cached_property
    def is_requester(self) -> bool:
        return bool(self.requester_departments)

    @property
    def works_for_a_department(self) -> bool:
        return self.is_head or self.is_requester


class User(AbstractBaseUser, PermissionsMixin):
    """A person: a city employee who may hold grants, and who may sign in to the portal."""

    class EmploymentStatus(models.TextChoices):
        ACTIVE = "active", "Active"
        ON_LEAVE = "on_leave", "On leave"
        TRANSFERRED = "transferred", "Transferred"
        LEFT = "left", "Left the city"

    email = models.EmailField("e-mail address", unique=True)
    full_name = models.CharField(max_length=150)
    # The city's HR number: the stable key the daily HR roster matches people by.
    employee_id = models.CharField("employee id", max_length=30, blank=True)
    title = models.CharField(max_length=150, blank=True)
    department = models.ForeignKey(
        "Department", null=True, blank=True, on_delete=models.PROTECT, related_name="people"
    )
    employment_status = models.CharField(
        max_length=12, choices=EmploymentStatus.choices, default=EmploymentStatus.ACTIVE
    )
    organization = models.CharField(
        "third-party organization", max_length=150, blank=True,
        help_text="For a third party's person (Definitions: not a city employee): the organization they work "
                  "for. Empty for city staff.",
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField("may use the admin", default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    history = AppendOnlyHistoricalRecords(get_user=history_user, excluded_fields=["password", "last_login"])
    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]
        indexes = [
            # A department's people in their usual order (the dashboard, the department's page): the
            # first rows of a large department without sorting all its people.
            models.Index(fields=["department", "full_name", "email"], name="person_department_by_name"),
        ]
        constraints = [
            # Unique when given: people entered by hand may have none.
            models.UniqueConstraint(fields=["employee_id"], condition=~models.Q(employee_id=""),
                                    name="person_employee_id_unique"),
        ]
        verbose_name = "person"
        verbose_name_plural = "people"

    def __str__(self):
        return self.full_name or self.email

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email

    def get_absolute_url(self):
        return reverse("accounts:person", args=[self.pk])

    @property
    def is_third_party(self) -> bool:
        return bool(self.organization)

    @cached_property
    def roles(self) -> Roles:
        return Roles(self)


class Department(models.Model):
    """A department, board or commission under the Mayor, with its head."""

    class Kind(models.TextChoices):
        DEPARTMENT = "department", "Department"
        BOARD = "board", "Board"
        COMMISSION = "commission", "Commission"

    name = models.CharField(max_length=150, unique=True)
    code = models.SlugField(max_length=30, unique=True)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.DEPARTMENT)
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    in_scope = models.BooleanField(
        "under the Mayor (in the order's scope)", default=True,
        help_text="Section 1: the order covers departments, boards and commissions under the Mayor. Untick for "
                  "an outside entity, another elected branch, or a state or federal agency: it cannot be given "
                  "department access or accounts.",
    )

    history = AppendOnlyHistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["name"]
        permissions = [("act_for_department", "Can see and act on the department's people and requests")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("accounts:department", args=[self.pk])


class SurveillanceSystem(models.Model):
    """A back-end or edge system of the city, or a federated third-party one."""

    class Kind(models.TextChoices):
        VMS = "vms", "Video management system"
        LPR = "lpr", "License plate reader"
        BIOMETRIC = "biometric", "Biometric tool"
        TRAFFIC = "traffic", "Traffic camera system"
        OTHER = "other", "Other"

    name = models.CharField(max_length=150, unique=True)
    code = models.SlugField(max_length=30, unique=True)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.VMS)
    description = models.TextField(blank=True)
    uses_biometrics = models.BooleanField(default=False)
    biometric_retention_days = models.PositiveIntegerField(
        "minimum retention of biometric data (days)", null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="Section 3.12: the minimum period, in days, its biometric data is kept. Required for a system "
                  "that uses biometrics, empty otherwise; no retention extension applies to it.",
    )
    is_license_plate_reader = models.BooleanField(default=False)
    is_third_party = models.BooleanField("third-party / federated", default=False)
    has_public_feed = models.BooleanField("live feed may be public (3.8)", default=False)
    owner = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="owned_systems"
    )

    history = AppendOnlyHistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        problem = biometric_retention_problem(
            uses_biometrics=self.uses_biometrics, days=self.biometric_retention_days
        )
        if problem:
            raise ValidationError({"biometric_retention_days": problem})


def biometric_retention_problem(*, uses_biometrics: bool, days: int | None) -> str | None:
    """Why a system's biometric retention is wrong (S3.12), or None: a system that uses biometrics
    records its minimum period; one that does not has none to record."""
    if uses_biometrics and not days:
        return ("A system that uses biometrics must record the minimum period its biometric data is kept "
                "(Section 3.12).")
    if not uses_biometrics and days is not None:
        return "Only a system that uses biometrics has a minimum retention of biometric data; leave it empty."
    return None


class AuthorizedRequesterQuerySet(models.QuerySet):
    def current(self, on=None):
        on = on or timezone.localdate()
        return self.filter(start_date__lte=on).filter(Q(end_date__isnull=True) | Q(end_date__gt=on))


class AuthorizedRequester(models.Model):
    """Someone ITSA keeps on file as allowed to file a department's requests (3.3), from
    `start_date` until the day before `end_date`."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="authorized_requesters")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    start_date = models.DateField(default=timezone.localdate)
    end_date = models.DateField(
        null=True, blank=True, help_text="The first day the person is off the list; empty while they stay on it."
    )
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    history = AppendOnlyHistoricalRecords(get_user=history_user)
    objects = AuthorizedRequesterQuerySet.as_manager()

    class Meta:
        ordering = ["department__name", "person__full_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="requester_ends_after_it_starts",
            ),
        ]

    def __str__(self):
        return f"{self.person} for {self.department}"

    def is_current(self, on=None) -> bool:
        on = on or timezone.localdate()
        return self.start_date <= on and (self.end_date is None or self.end_date > on)


# How two account names are compared on one system (JC19a): whatever the case, without surrounding
# spaces, as the systems' use reports are matched (accounts.last_use). Grant's unique constraint and
# the service rule both use it, so they agree on every name.
def account_name_key(name):
    return Lower(Trim(name))


class Grant(models.Model):
    """A person's provisioned access (an account) to one system, with one role."""

    class Role(models.TextChoices):
        END_USER = "end_user", "End user"
        ADMINISTRATOR = "administrator", "Administrator"
        MONITOR = "monitor", "Monitor"
        AUDITOR = "auditor", "Auditor"

    STAFF_ROLES = (Role.ADMINISTRATOR, Role.MONITOR, Role.AUDITOR)

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        REMOVED = "removed", "Removed"

    LIVE_STATUSES = (Status.ACTIVE, Status.SUSPENDED)

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="grants")
    system = models.ForeignKey(SurveillanceSystem, on_delete=models.PROTECT, related_name="grants")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="grants")
    role = models.CharField(max_length=14, choices=Role.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    account_name = models.CharField(max_length=150)
    permissible_uses = models.ManyToManyField(PermissibleUse, related_name="grants", blank=True)
    provisioned_at = models.DateTimeField()
    provisioned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(
        "last used on the system", null=True, blank=True,
        help_text="When the account was last used, as the system reports it; it never moves backwards.",
    )
    hygiene_suspended_at = models.DateTimeField(
        "suspended by the nightly check", null=True, blank=True,
        help_text="The nightly check suspends a grant once; after ITSA reinstates it, it only reports it.",
    )
    ends_on = models.DateField(
        "access ends", null=True, blank=True,
        help_text="Temporary access (under 30 days) or access under a sharing agreement: the portal removes "
                  "the grant at 00:00, city time, on this day.",
    )
    # Set exactly for a grant under a sharing agreement, which is how this app's rules know one; the
    # link to the agreement is kept by the agreements app.
    view_only = models.BooleanField(
        default=False, help_text="Third-party access under a sharing agreement is view-only (3.7).",
    )
    warned_week_at = models.DateTimeField(null=True, blank=True, editable=False)
    warned_day_at = models.DateTimeField(null=True, blank=True, editable=False)

    # The systems report use every day: that is telemetry, not a change to the grant's timeline.
    history = AppendOnlyHistoricalRecords(get_user=history_user, m2m_fields=[permissible_uses], excluded_fields=["last_used_at", "warned_week_at", "warned_day_at"])

    class Meta:
        ordering = ["system__name", "person__full_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "system", "role"],
                condition=Q(status__in=["active", "suspended"]),
                name="one_live_grant_per_person_system_role",
            ),
            # JC19a: one person per account on a system. The rule and its message live in
            # accounts.services.account_name_problem; this is the backstop for writes that skip it.
            models.UniqueConstraint(
                "system", account_name_key("account_name"),
                condition=Q(status__in=["active", "suspended"]),
                name="one_live_grant_per_system_account_name",
            ),
        ]
        indexes = [models.Index(fields=["department", "status"])]

    def __str__(self):
        return f"{self.person} — {self.system} ({self.get_role_display()})"

    def get_absolute_url(self):
        return reverse("accounts:grant", args=[self.pk])

    @property
    def is_staff_role(self) -> bool:
        return self.role in self.STAFF_ROLES

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE_STATUSES


class SodFinding(models.Model):
    """A separation-of-duties conflict (3.2) the portal met, and how it was resolved: refused when
    a request was filed, approved or provisioned, or found among existing accounts by the nightly
    scan (`accounts.sod`). The reports count them (2.5).

    An "administered" finding is about an account (its `grant`) that `person` created, changed or
    removed while holding end-user access to its system, or that was their own (S3.2c); it stays
    open while that access, or their own account, is still live."""

    class Stage(models.TextChoices):
        FILING = "filing", "Caught when the request was filed"
        APPROVAL = "approval", "Caught at approval"
        PROVISIONING = "provisioning", "Caught at provisioning"
        REVIEW = "review", "Caught when a validation changed a role"
        SCAN = "scan", "Found in existing accounts by the nightly scan"
        ADMINISTERED = "administered", (
            "Found by the nightly scan: an account created, changed or removed by an end user of its system "
            "or by its holder"
        )

    class Resolution(models.TextChoices):
        PREVENTED = "prevented", "Refused: the access was not given"
        OPEN = "open", "Open: both roles still held"
        RESOLVED = "resolved", "Resolved: one of the roles was removed"

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sod_findings")
    system = models.ForeignKey(SurveillanceSystem, on_delete=models.PROTECT, related_name="sod_findings")
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="sod_findings",
        help_text="The person's department when the conflict was found.",
    )
    stage = models.CharField(max_length=12, choices=Stage.choices)
    grant = models.ForeignKey(
        Grant, null=True, blank=True, on_delete=models.PROTECT, related_name="sod_findings",
        help_text="For an administered account (S3.2c): the grant the person created, changed or removed.",
    )
    detail = models.TextField(help_text="The conflict, as the portal stated it.")
    found_at = models.DateTimeField(default=timezone.now, db_index=True)
    resolution = models.CharField(max_length=10, choices=Resolution.choices)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-found_at", "-id"]
        verbose_name = "separation-of-duties finding"
        constraints = [
            # The scan opens one finding per person and system while the conflict lasts.
            models.UniqueConstraint(fields=["person", "system"], condition=Q(resolution="open", grant__isnull=True),
                                    name="one_open_sod_finding"),
            # An administered account is found once per person who administered it.
            models.UniqueConstraint(fields=["person", "grant"], condition=Q(stage="administered"),
                                    name="one_sod_finding_per_administered_grant"),
        ]

    def __str__(self):
        return f"{self.person} on {self.system}: {self.get_resolution_display()}"

