"""Build a city-sized portal on PostgreSQL, for the benchmarks: departments, systems, people,
grants, years of access requests, annual validations and the history of each.

Run from the project root, against a database of its own (bench/README.md, "Pages under load"):

    DATABASE_URL=postgres://postgres@127.0.0.1:54329/portal_bench_scale python bench/seed_scale.py --yes

The services would take hours for 60,000 grants, so the rows go straight into the tables with
bulk_create, in the order the services would have written them, and obey the same rules. Where a
rule has a home in the portal (references, written texts, permissible uses, when a validation opens
and is due, statements, change reasons), the rows are made by calling it; elsewhere the city is
built so that the rule never comes into play (a person's grants are on different systems, so
separation of duties is never at stake; heads hold no grants, so nobody decides their own access):

- every department has a head and two authorized requesters, and the head and the requesters
  hold the department's object permission; the city has five ITSA administrators, two Mayor's
  designees and a Director of Public Safety;
- a department holds grants only on the systems the designee authorized it to use, each grant
  with one or two permissible uses of the intended uses it was authorized for;
- nobody holds an end-user grant and a staff grant on one system (3.2): a person's grants are on
  different systems;
- behind every grant is the completed access request that made it; ended grants have the removal
  that ended them (filed by the department, or sent to ITSA by a validation); returned, declined,
  withdrawn, awaiting and with-ITSA requests are there too; references run AR-<year>-<n> in the
  order the requests were filed;
- each department's annual validations open on the day `audits.services.next_due_on` gives after
  the last one's completion: the past ones signed off by the head with every item decided, the
  current one open for some;
- history: each row has the history rows its changes would have left (a creation row, then one
  per change of state), written with the historical models' bulk_create, never updated.

Written requests are not made into PDFs (60,000 renders): the request page then shows the written
text, as for requests filed before PDF records were kept. Dates are counted back from now: two runs
with the same --seed build the same city, its dates moved on by the time between the runs.
"""

import math
import random
import sys
from base64 import b32decode
from collections import defaultdict
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from time import perf_counter
from zoneinfo import ZoneInfo

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from django.apps import apps  # noqa: E402
from validations import setup_django  # noqa: E402

if not apps.ready:  # run as a script: the portal's modules below need Django set up (the tests have it)
    setup_django()

from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management.base import BaseCommand, CommandError  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import dateformat, timezone  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from access_requests.models import AccessRequest, DepartmentAccess  # noqa: E402
from access_requests.services import (  # noqa: E402
    authorized_uses,
    filed_as_approved,
    request_reference,
    written_fingerprint,
    written_request_text,
)
from accounts.models import (  # noqa: E402
    CITY_ROLE_GROUPS,
    DESIGNEE_GROUP,
    ITSA_GROUP,
    SAFETY_DIRECTOR_GROUP,
    AuthorizedRequester,
    Department,
    Grant,
    SurveillanceSystem,
    User,
)
from accounts.services import department_sync_permissions, grant_status_reason, role_group  # noqa: E402
from pages.management.commands.seed_demo import DEMO_AUTHENTICATOR_KEY  # noqa: E402
from audits.models import Validation, ValidationItem
from audits.services import (  # noqa: E402
    ITEM_ORDER,
    next_due_on,
    revocation_justification,
    sign_off_due_on,
    sign_off_statement,
)
from portal.audit import audit_record  # noqa: E402
from portal.models import IntendedUse, PermissibleUse  # noqa: E402
from portal.table1 import load_table_1  # noqa: E402

DOMAIN = "scale.example"
SCALE_PASSWORD = "scale-city-2026"
DEFAULT_SEED = 2026

ITSA_PEOPLE = 5
DESIGNEES = 2
DIRECTORS = 1  # Directors of Public Safety: they decide waivers and extend retention
REQUESTERS_PER_DEPARTMENT = 2
SMALLEST_DEPARTMENT = 1 + REQUESTERS_PER_DEPARTMENT + 1  # a head, the requesters, someone holding grants

STAFF_SHARE = 0.05  # of the grants: administrator, monitor or auditor
ENDED_SHARE = 0.08  # of the grants, removed by a request; validations revoke about 2% more
SUSPENDED_SHARE = 0.01  # of the live grants
NEVER_USED_SHARE = 0.03  # of the live grants: never used on the system (the nightly check finds them)
LAUNCH_SHARE = 0.35  # of the grants: filed in the portal's first weeks, for the accounts that existed
RETURNED_SHARE = 0.04  # of the grants: a request returned by ITSA before the one completed
DECLINED_SHARE = 0.03  # declined by the head before the one completed
WITHDRAWN_SHARE = 0.02  # withdrawn before the one completed
AWAITING_SHARE = 0.005  # of the grants: requests awaiting the head now
WITH_ITSA_SHARE = 0.004  # requests approved and with ITSA now
REVOKE_SHARE = 0.02  # of the items of a validation
OPEN_VALIDATION_SHARE = 0.2  # of the departments: this year's validation open now
PENDING_ACCESS_SHARE = 0.05  # of the departments: a request to use one more system, before the designee
DENIED_ACCESS_SHARE = 0.03  # of the departments: one the designee denied

FIRST_NAMES = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph "
    "Jessica Thomas Sarah Carlos Karen Daniel Lisa Matthew Nancy Anthony Betty Mark Sandra Luis Ashley Steven "
    "Kimberly Andrew Emily Kevin Donna Brian Michelle Omar Carol Wei Amanda Jamal Melissa Priya Deborah Hiroshi "
    "Stephanie Ahmed Rebecca Mateo Laura Tunde Helen Ivan Sharon Kofi Cynthia Arjun Angela"
).split()
LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson "
    "Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis "
    "Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera "
    "Campbell Mitchell Carter Roberts Okafor Chen Patel Kowalski Novak Lindqvist Haddad Nakamura Osei Fischer"
).split()
TITLES = ("Analyst", "Detective", "Sergeant", "Inspector", "Engineer", "Technician", "Supervisor", "Officer",
          "Coordinator", "Specialist", "Manager", "Clerk", "Investigator", "Planner", "Dispatcher")

_D, _B, _C = Department.Kind.DEPARTMENT, Department.Kind.BOARD, Department.Kind.COMMISSION
DEPARTMENTS = (
    ("Police Department", _D), ("Fire Department", _D), ("Streets Department", _D), ("Health Department", _D),
    ("Board of Public Service", _B), ("Parks Commission", _C), ("Water Division", _D), ("Airport Authority", _B),
    ("Library Board", _B), ("Housing Authority", _B), ("Port Commission", _C), ("Traffic Division", _D),
    ("Building Division", _D), ("Forestry Division", _D), ("Refuse Division", _D), ("Treasurer's Office", _D),
    ("Collector of Revenue", _D), ("Sheriff's Office", _D), ("Circuit Attorney's Office", _D),
    ("Corrections Division", _D), ("Emergency Management Agency", _D), ("Human Services", _D),
    ("Planning Commission", _C), ("Civil Rights Enforcement Agency", _D), ("Board of Election Commissioners", _B),
    ("Zoo-Museum District", _B), ("Convention and Visitors Commission", _C), ("Cultural Resources Office", _D),
    ("Lighting Division", _D), ("Equipment Services Division", _D), ("Asset Management", _D),
    ("Animal Care and Control", _D), ("Community Development Administration", _D), ("Public Safety Communications", _D),
    ("Neighborhood Stabilization Office", _D), ("Recreation Division", _D), ("Towing Division", _D),
    ("Parking Division", _D), ("Comptroller's Office", _D), ("Recorder of Deeds", _D), ("Assessor's Office", _D),
    ("Personnel Board", _B), ("Airport Commission", _C), ("Senior Services Commission", _C), ("Youth Commission", _C),
)
HEAD_TITLES = {_D: "Director", _B: "President of the Board", _C: "Commissioner"}

_K = SurveillanceSystem.Kind
# One cycle of system kinds (the city has many cameras, few biometric tools).
SYSTEM_KINDS = (_K.VMS, _K.TRAFFIC, _K.VMS, _K.LPR, _K.OTHER, _K.VMS, _K.TRAFFIC, _K.VMS, _K.LPR, _K.OTHER,
                _K.VMS, _K.TRAFFIC, _K.VMS, _K.BIOMETRIC, _K.OTHER, _K.VMS, _K.TRAFFIC, _K.VMS, _K.LPR, _K.OTHER)
SYSTEM_NAMES = {_K.VMS: "Video Management System", _K.TRAFFIC: "Traffic Camera Network",
                _K.LPR: "License Plate Reader Network", _K.BIOMETRIC: "Facial Recognition Tool",
                _K.OTHER: "Gunshot Detection Network"}

ADD_REASONS = ("Reviews footage for open cases.", "Monitors the department's sites during shifts.",
               "Investigates incidents reported to the department.", "Prepares evidence for prosecutions.",
               "Checks conditions reported by the public.", "Supervises the night shift's reviews.")
STAFF_REASONS = {Grant.Role.ADMINISTRATOR: "Administers the system for the department.",
                 Grant.Role.MONITOR: "Monitors the system's use for the department.",
                 Grant.Role.AUDITOR: "Audits the department's use of the system."}
REMOVE_REASONS = ("Moved to a post without this duty.", "Left the department.",
                  "No longer needs the system for the duties of the post.",
                  "The project the access was granted for has ended.")
SUSPEND_REASON = "On leave for several months."
RETURN_REASONS = ("The signed copy is missing; upload it and file again.", "The account name is already taken.")
DECLINE_REASONS = ("The duties do not call for this system.", "Another person of the unit already covers this.")
REVOKE_REASONS = ("No longer needs the system for the duties of the post.",
                  "Moved to a post without investigative duties.", "Account not used in the last six months.")

BATCH = 2000
Status, Action, Role = AccessRequest.Status, AccessRequest.Action, Grant.Role
STATUS_WORDS = {Status.AWAITING_HEAD: "awaiting the head", Status.WITH_ITSA: "with ITSA", Status.COMPLETED: "completed",
                Status.RETURNED: "returned", Status.DECLINED: "declined", Status.WITHDRAWN: "withdrawn"}


def email(local: str) -> str:
    return f"{local}@{DOMAIN}"


@contextmanager
def _dates_as_given(*fields):
    """bulk_create with the dates the city's past had, not now, in fields Django fills on creation."""
    saved = [(field, field.auto_now_add) for field in fields]
    for field, _ in saved:
        field.auto_now_add = False
    try:
        yield
    finally:
        for field, value in saved:
            field.auto_now_add = value


# Each `Model.history` builds a manager class: look the historical models up once.
HISTORY = {model: model.history.model for model in (User, Department, SurveillanceSystem, AuthorizedRequester,
                                                     DepartmentAccess, Grant, AccessRequest, Validation,
                                                     ValidationItem)}


def _snapshot(history_model, obj) -> dict:
    return {field.attname: getattr(obj, field.attname) for field in history_model.tracked_fields}


# A command for its options, output and exit status: the script runs it (at the end of this file),
# the tests call it with call_command.
class Command(BaseCommand):
    help = ("Build a large city on PostgreSQL for the benchmarks (by default 100 departments, 60 systems, "
            "20,000 people, 60,000 grants, three years of requests, validations and history) and print the "
            "benchmark's logins. Run from the project root: python bench/seed_scale.py --yes")

    def add_arguments(self, parser):
        parser.add_argument("--people", type=int, default=20000,
                            help="People working for the departments, heads and requesters included; the "
                                 f"{ITSA_PEOPLE} ITSA administrators, {DESIGNEES} Mayor's designees and "
                                 f"{DIRECTORS} director come on top.")
        parser.add_argument("--departments", type=int, default=100)
        parser.add_argument("--systems", type=int, default=60)
        parser.add_argument("--grants-per-person", type=int, default=3,
                            help="Grants in all = people x this (ended ones included); heads hold none.")
        parser.add_argument("--years", type=int, default=3, help="Years of requests, validations and history.")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Random seed: the same seed, the same city.")
        parser.add_argument("--wipe", action="store_true",
                            help="Empty the portal's tables first (Table 1 stays; the role groups are made again).")
        parser.add_argument("--yes", action="store_true", help="Do not ask before writing.")
        parser.add_argument("--force", action="store_true", help="Allow it in production (known passwords!).")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                f"seed_scale builds on PostgreSQL only; the default database is {connection.vendor}. "
                "Point DATABASE_URL at a PostgreSQL database of its own, e.g. "
                "postgres://postgres@127.0.0.1:54329/portal_scale_bench.")
        if getattr(settings, "PRODUCTION", False) and not options["force"]:
            raise CommandError("Refusing to load a benchmark city, with known passwords, into a production portal "
                               "(use --force).")
        self._check_sizes(options)
        database = connection.settings_dict["NAME"]
        people = User.objects.count()
        held = people + Department.objects.count() + SurveillanceSystem.objects.count() + Grant.objects.count()
        if held and not options["wipe"]:
            raise CommandError(
                f"The database {database} already holds {people:,} people and other rows beyond Table 1 and the "
                "role groups. Build on an empty database, or pass --wipe to empty it first.")
        if not options["yes"]:
            what = "EMPTY and rebuild" if options["wipe"] and held else "write"
            try:
                answer = input(f"This will {what} the PostgreSQL database {database!r}. Type 'yes' to go on: ")
            except EOFError:
                answer = ""
            if answer.strip().lower() != "yes":
                raise CommandError("Nothing done.")

        started = perf_counter()
        self.stdout.write(f"Building a city in {database}: {options['departments']} departments, "
                          f"{options['systems']} systems, {options['people']:,} people, "
                          f"{options['people'] * options['grants_per_person']:,} grants, {options['years']} years "
                          f"(seed {options['seed']}).")
        if options["wipe"]:
            self._stage("Emptying the portal's tables", self._wipe)
        city = City(options)
        self._stage("Departments, systems, roles", city.build_organisation)
        self._stage("People", city.build_people)
        self._stage("Grants (and validations planned)", city.build_grants)
        self._stage("Access requests", city.build_requests)
        self._stage("Validations", city.build_validations)
        self._stage("History: people, departments", city.history_organisation)
        self._stage("History: grants", city.history_grants)
        self._stage("History: access requests", city.history_requests)
        self._stage("History: validations", city.history_validations)
        self._stage("Audit trail entry", city.record)
        self._stage("ANALYZE", self._analyze)
        self.stdout.write(self.style.SUCCESS(f"City built in {perf_counter() - started:.1f} s."))
        self._print_counts()
        self._print_logins(city)

    def _check_sizes(self, options):
        for name in ("people", "departments", "systems", "grants_per_person", "years"):
            if options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be 1 or more.")
        if options["people"] < SMALLEST_DEPARTMENT * options["departments"]:
            raise CommandError(f"{options['departments']} departments need at least "
                               f"{SMALLEST_DEPARTMENT * options['departments']} people (a head, "
                               f"{REQUESTERS_PER_DEPARTMENT} requesters and someone holding grants in each).")
        # The smallest department spreads its grants over its non-heads, each on different systems.
        k, size = options["grants_per_person"], SMALLEST_DEPARTMENT
        needed = math.ceil(size * k / (size - 1))
        if options["systems"] < needed:
            raise CommandError(f"{k} grants a person need at least {needed} systems (a person's grants are on "
                               "different systems); raise --systems or lower --grants-per-person.")

    def _stage(self, label, function):
        self.stdout.write(f"  {label}...", ending="")
        self.stdout.flush()
        started = perf_counter()
        with transaction.atomic():
            summary = function()
        self.stdout.write(f" {perf_counter() - started:.1f} s" + (f": {summary}" if summary else ""))

    def _wipe(self) -> str:
        """TRUNCATE every table of the portal but Table 1 and what Django keeps of its apps (content types,
        permissions); the role groups are made again. Only the default database is touched."""
        kept = {model._meta.db_table for model in (IntendedUse, PermissibleUse)}
        kept |= {"django_content_type", "auth_permission", "django_migrations"}
        tables = [table for table in connection.introspection.django_table_names(only_existing=True,
                                                                               include_views=False)
                  if table not in kept]
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            # Constraint checks deferred earlier in this transaction would make TRUNCATE refuse.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            # The audit trail and history tables refuse TRUNCATE (portal migration 0009); a superuser
            # emptying a scale database goes around their triggers for this one statement.
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(f"TRUNCATE {', '.join(quote(t) for t in sorted(tables))} RESTART IDENTITY CASCADE")
            cursor.execute("SET LOCAL session_replication_role = origin")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        load_table_1(IntendedUse, PermissibleUse)
        for name in CITY_ROLE_GROUPS:
            role_group(name)
        return f"{len(tables)} tables"

    def _analyze(self) -> str:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        return ""

    def _print_counts(self):
        rows = [
            ("people", User.objects.count()),
            ("departments", Department.objects.count()),
            ("systems", SurveillanceSystem.objects.count()),
            ("department access", DepartmentAccess.objects.count()),
            ("grants", Grant.objects.count()),
            ("  of them live", Grant.objects.filter(status__in=Grant.LIVE_STATUSES).count()),
            ("access requests", AccessRequest.objects.count()),
            ("validations", Validation.objects.count()),
            ("  of them open", Validation.objects.filter(status__in=Validation.OPEN_STATUSES).count()),
            ("validation items", ValidationItem.objects.count()),
            ("history rows: grants", Grant.history.count()),
            ("history rows: access requests", AccessRequest.history.count()),
            ("history rows: validation items", ValidationItem.history.count()),
        ]
        width = max(len(label) for label, _ in rows)
        for label, count in rows:
            self.stdout.write(f"  {label.ljust(width)}  {count:>9,}")

    def _print_logins(self, city: "City"):
        largest = city.largest_department
        self.stdout.write(f"\nBenchmark logins (password: {SCALE_PASSWORD}); everyone else has no usable password.")
        self.stdout.write(
            f"They also enter a code: add the key {DEMO_AUTHENTICATOR_KEY} to an authenticator app, or print the "
            "current code with `python manage.py seed_demo --code`.")
        rows = [
            ("ITSA administrator", city.itsa[0].email),
            ("Mayor's designee", city.designees[0].email),
            ("Director of Public Safety", city.directors[0].email),
            (f"Head of the largest department ({largest.name}, {city.size_of[largest.pk]:,} people)",
             largest.head.email),
            ("Head of any department", email("head.<department code>")),
        ]
        width = max(len(role) for role, _ in rows)
        for role, address in rows:
            self.stdout.write(f"  {role.ljust(width)}  {address}")


class WrittenText:
    """The written text of each request, as `access_requests.services.written_request_text` makes it, at the
    cost of one template render per shape of request (action, role, uses...) rather than per request:
    the shape is rendered once with markers in place of the request's own words, which are then put
    in. The first request of each shape is also rendered in full and compared; on any difference
    every request is rendered in full."""

    # A filing time no request has, so that its rendering can be found and replaced.
    MARK_TIME = datetime(1901, 2, 3, 4, 5, tzinfo=ZoneInfo("UTC"))

    def __init__(self):
        self.shapes = {}
        self.exact = False
        self.mark_time = dateformat.format(timezone.localtime(self.MARK_TIME), "Y-m-d H:i T")

    def __call__(self, request: AccessRequest, uses) -> str:
        if self.exact:
            return written_request_text(request, uses)
        grant = request.grant
        key = (request.action, request.role, request.department.kind, bool(request.person.title),
               grant.role if grant else None, tuple(use.pk for use in uses))
        words = {
            "⟦reference⟧": request.reference, "⟦department⟧": request.department.name,
            "⟦filer⟧": request.requested_by.full_name, "⟦filer e-mail⟧": request.requested_by.email,
            "⟦person⟧": request.person.full_name, "⟦person e-mail⟧": request.person.email,
            "⟦title⟧": request.person.title, "⟦system⟧": request.system.name,
            "⟦account⟧": grant.account_name if grant else "", "⟦justification⟧": request.justification,
            self.mark_time: dateformat.format(timezone.localtime(request.submitted_at), "Y-m-d H:i T"),
        }
        shape = self.shapes.get(key)
        if shape is None:
            shape = self.shapes[key] = written_request_text(self._marked(request), uses)
            text, exact = self._fill(shape, words), written_request_text(request, uses)
            if text != exact:
                self.exact = True
            return exact
        return self._fill(shape, words)

    def _marked(self, request: AccessRequest) -> AccessRequest:
        grant = request.grant
        return AccessRequest(
            reference="⟦reference⟧", department=Department(name="⟦department⟧", kind=request.department.kind),
            requested_by=User(full_name="⟦filer⟧", email="⟦filer e-mail⟧"), submitted_at=self.MARK_TIME,
            action=request.action, role=request.role, system=SurveillanceSystem(name="⟦system⟧"),
            person=User(full_name="⟦person⟧", email="⟦person e-mail⟧",
                        title="⟦title⟧" if request.person.title else ""),
            grant=Grant(role=grant.role, account_name="⟦account⟧") if grant else None,
            justification="⟦justification⟧",
        )

    @staticmethod
    def _fill(shape: str, words: dict) -> str:
        for mark, word in words.items():
            shape = shape.replace(mark, word)
        return shape


class City:
    """The plan of the city and the rows it writes; each build_* method is one stage."""

    def __init__(self, options):
        self.seed = options["seed"]
        self.rng = random.Random(self.seed)
        self.n_people, self.n_departments = options["people"], options["departments"]
        self.n_systems, self.per_person, self.years = options["systems"], options["grants_per_person"], options["years"]
        self.zone = ZoneInfo(settings.TIME_ZONE)
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.start = self.now - timedelta(days=365 * self.years)
        self.no_password = make_password(None)
        self.known_password = make_password(SCALE_PASSWORD)
        self.allowed_uses = {}  # (department pk, system pk) -> the permissible uses it may name there
        self.numbered = 0
        self.grants: list[Grant] = []
        self.requests: list[AccessRequest] = []
        self.validations: list[Validation] = []
        self.items: list[ValidationItem] = []
        self.access: list[DepartmentAccess] = []
        self.revoked: list[Grant] = []

    # --- Time ---------------------------------------------------------------------------------

    def between(self, lo: datetime, hi: datetime) -> datetime:
        return lo + (hi - lo) * self.rng.random()

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=self.zone)

    def office_hours(self, day: date) -> datetime:
        return self.at(day, self.rng.randint(8, 16), self.rng.randint(0, 59))

    def days(self, lo: float, hi: float) -> timedelta:
        return timedelta(days=self.rng.uniform(lo, hi))

    # --- Departments, systems, city-wide roles --------------------------------------------------

    def _person(self, local: str, department=None, title="", password=None, rng=None) -> User:
        """`local` names the city-wide roles, heads and requesters; the others are numbered."""
        rng = rng or self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        if not local:
            self.numbered += 1
            local = f"{first}.{last}.{self.numbered:05d}".lower()
        return User(email=email(local), full_name=f"{first} {last}", title=title, department=department,
                    password=password or self.no_password,
                    date_joined=self.start - timedelta(days=rng.uniform(30, 3000)))

    @staticmethod
    def _department(n: int) -> Department:
        name, kind = DEPARTMENTS[n % len(DEPARTMENTS)]
        if n >= len(DEPARTMENTS):
            name = f"{name}, District {n // len(DEPARTMENTS) + 1}"
        return Department(name=name, code=f"dept-{n:03d}", kind=kind)

    def build_organisation(self) -> str:
        rng = self.rng
        self._sizes()
        self.departments = Department.objects.bulk_create(self._department(n) for n in range(self.n_departments))
        self.systems = []
        for n in range(self.n_systems):
            kind = SYSTEM_KINDS[n % len(SYSTEM_KINDS)]
            self.systems.append(SurveillanceSystem(
                name=f"{SYSTEM_NAMES[kind]} {n + 1:02d}", code=f"system-{n + 1:02d}", kind=kind,
                description=f"{SYSTEM_NAMES[kind]} number {n + 1} of the city.",
                uses_biometrics=kind == _K.BIOMETRIC, is_license_plate_reader=kind == _K.LPR,
                has_public_feed=kind == _K.TRAFFIC and n % 2 == 0, is_third_party=n % 10 == 9,
                owner=None if n % 10 == 9 else rng.choice(self.departments),
            ))
        SurveillanceSystem.objects.bulk_create(self.systems)
        self.size_of = {d.pk: size for d, size in zip(self.departments, self.sizes)}

        self.itsa = [self._person(f"itsa{n + 1}", title="ITSA administrator",
                                  password=self.known_password if n == 0 else None) for n in range(ITSA_PEOPLE)]
        # The first administers the portal too, as in the demo city.
        self.itsa[0].is_staff = self.itsa[0].is_superuser = True
        self.designees = [self._person(f"designee{n + 1}", title="Mayor's designee",
                                       password=self.known_password if n == 0 else None) for n in range(DESIGNEES)]
        # Drawn from a generator of their own, so that the rest of a seed's city is the one it was before.
        own = random.Random(f"directors-{self.seed}")
        self.directors = [self._person(f"director{n + 1}", title="Director of Public Safety",
                                       password=self.known_password, rng=own) for n in range(DIRECTORS)]
        self.heads, self.requesters = [], defaultdict(list)
        for department in self.departments:
            head = self._person(f"head.{department.code}", department, HEAD_TITLES[department.kind],
                                password=self.known_password)
            department.head = head
            self.heads.append(head)
            for n in range(REQUESTERS_PER_DEPARTMENT):
                self.requesters[department.pk].append(
                    self._person(f"requester{n + 1}.{department.code}", department, "IT liaison"))
        self.city_people = [*self.itsa, *self.designees, *self.heads,
                            *(p for d in self.departments for p in self.requesters[d.pk]), *self.directors]
        User.objects.bulk_create(self.city_people, batch_size=BATCH)
        Department.objects.bulk_update(self.departments, ["head"])
        through = User.groups.through
        itsa, designee = role_group(ITSA_GROUP), role_group(DESIGNEE_GROUP)
        director = role_group(SAFETY_DIRECTOR_GROUP)
        through.objects.bulk_create([through(user_id=p.pk, group_id=itsa.pk) for p in self.itsa]
                                    + [through(user_id=p.pk, group_id=designee.pk) for p in self.designees]
                                    + [through(user_id=p.pk, group_id=director.pk) for p in self.directors])

        listed = self.start - timedelta(days=30)
        self.requester_entries = [
            AuthorizedRequester(department=d, person=p, start_date=timezone.localtime(listed).date(),
                                added_by=self.itsa[0], added_at=listed)
            for d in self.departments for p in self.requesters[d.pk]
        ]
        with _dates_as_given(AuthorizedRequester._meta.get_field("added_at")):
            AuthorizedRequester.objects.bulk_create(self.requester_entries)
        for department in self.departments:
            department_sync_permissions(department=department)
        key = b32decode(DEMO_AUTHENTICATOR_KEY).hex()
        TOTPDevice.objects.bulk_create(
            TOTPDevice(user=p, name="Benchmark authenticator", key=key, confirmed=True)
            for p in (self.itsa[0], self.designees[0], *self.directors, *self.heads))

        self._department_access()
        return (f"{len(self.departments)} departments, {len(self.systems)} systems, "
                f"{len(self.city_people)} heads, requesters, ITSA administrators, designees and directors, "
                f"{len(self.access)} department access decisions")

    def _sizes(self):
        """Department sizes from a long-tailed draw (a few large departments, many small ones)."""
        rng = self.rng
        spare = self.n_people - SMALLEST_DEPARTMENT * self.n_departments
        weights = [min(rng.paretovariate(1.3), 40.0) for _ in range(self.n_departments)]
        total = sum(weights)
        extra = [int(spare * w / total) for w in weights]
        for n in sorted(range(len(extra)), key=lambda n: -weights[n])[: spare - sum(extra)]:
            extra[n] += 1
        self.sizes = [SMALLEST_DEPARTMENT + e for e in extra]

    def _department_access(self):
        """What each department may use, for which intended uses, decided by the designee before the
        portal's first requests; and now and then a request for one more system, pending or denied."""
        rng = self.rng
        designee = self.designees[0]
        intended = list(IntendedUse.objects.order_by("position"))
        self.intended_of, self.systems_of = {}, {}
        for department in self.departments:
            self.intended_of[department.pk] = rng.sample(intended, 2 if rng.random() < 0.5 else 1)
            size = self.size_of[department.pk]
            needed = math.ceil(size * self.per_person / (size - 1))
            count = min(self.n_systems, max(needed, rng.randint(self.per_person + 1, self.per_person + 7)))
            systems = rng.sample(self.systems, count)
            self.systems_of[department.pk] = systems
            for system in systems:
                requested = self.start - self.days(40, 90)
                self.access.append(self._access(department, system, DepartmentAccess.Status.GRANTED, requested,
                                                requested + self.days(2, 20), designee,
                                                "Tied to the services the department delivers."))
            others = [s for s in self.systems if s not in systems]
            draw = rng.random()
            if others and draw < PENDING_ACCESS_SHARE:
                requested = self.now - self.days(1, 20)
                self.access.append(self._access(department, rng.choice(others), DepartmentAccess.Status.PENDING,
                                                requested))
            elif others and draw < PENDING_ACCESS_SHARE + DENIED_ACCESS_SHARE:
                requested = self.between(self.start, self.now - timedelta(days=30))
                self.access.append(self._access(department, rng.choice(others), DepartmentAccess.Status.DENIED,
                                                requested, requested + self.days(2, 20), designee,
                                                "Not a permissible use for the services the department delivers."))
        with _dates_as_given(DepartmentAccess._meta.get_field("requested_at")):
            DepartmentAccess.objects.bulk_create(self.access, batch_size=BATCH)
        through = DepartmentAccess.intended_uses.through
        links = [through(departmentaccess_id=access.pk, intendeduse_id=use.pk)
                 for access in self.access for use in access._uses]
        through.objects.bulk_create(links, batch_size=5 * BATCH)
        self._attach_links(self.access, links, "intendeduse_id")

    @staticmethod
    def _attach_links(objects, links, target):
        """Keep on each object its many-to-many rows, (id, target), for the history's copies of them;
        `links` were made in the order of `objects` and their `_uses`."""
        rows = iter(links)
        for obj in objects:
            obj._links = [(link.pk, getattr(link, target)) for link in (next(rows) for _ in obj._uses)]

    def _access(self, department, system, status, requested, decided=None, by=None, reason=""):
        access = DepartmentAccess(
            department=department, system=system, status=status, requested_by=department.head,
            requested_at=requested, decided_by=by, decided_at=decided, decision_reason=reason,
            business_need=f"{department.name} uses {system.name} for the services it delivers.",
        )
        access._uses = self.intended_of[department.pk]
        return access

    # --- People ----------------------------------------------------------------------------------

    def build_people(self) -> str:
        rng = self.rng
        self.staff_of = {}
        people = []
        for department in self.departments:
            staff = [self._person("", department, rng.choice(TITLES))
                     for _ in range(self.size_of[department.pk] - 1 - REQUESTERS_PER_DEPARTMENT)]
            people.extend(staff)
            # Everyone but the head holds grants: the requesters too.
            self.staff_of[department.pk] = [*self.requesters[department.pk], *staff]
        User.objects.bulk_create(people, batch_size=BATCH)
        self.people = people
        return f"{len(self.city_people) + len(people):,} people"

    @property
    def largest_department(self) -> Department:
        return max(self.departments, key=lambda d: self.size_of[d.pk])

    # --- Grants, and the validations that review (and revoke) them -------------------------------

    def build_grants(self) -> str:
        rng = self.rng
        launch_end = self.start + timedelta(days=90)
        first = self.start + timedelta(days=21)  # room for the request before it
        for department in self.departments:
            holders = self.staff_of[department.pk]
            systems = self.systems_of[department.pk]
            counts = self._spread(len(holders), self.size_of[department.pk] * self.per_person, len(systems))
            for person, count in zip(holders, counts):
                for system in rng.sample(systems, count):
                    role = rng.choice(Grant.STAFF_ROLES) if rng.random() < STAFF_SHARE else Role.END_USER
                    if rng.random() < LAUNCH_SHARE:
                        provisioned = self.between(first, launch_end)
                    else:
                        provisioned = self.between(launch_end, self.now - timedelta(days=1))
                    local = person.email.split("@")[0].replace(".", "_")
                    grant = Grant(person=person, system=system, department=department, role=role,
                                  status=Grant.Status.ACTIVE, provisioned_at=provisioned,
                                  provisioned_by=rng.choice(self.itsa),
                                  account_name=local if role == Role.END_USER else f"{local}_{role[:5]}")
                    grant._uses = self._pick_uses(department, system)
                    grant._suspended_at = grant._suspension = grant._removal = None
                    if rng.random() < ENDED_SHARE and provisioned + timedelta(days=2) < self.now:
                        grant.ended_at = self.between(provisioned + timedelta(days=2), self.now - timedelta(hours=1))
                    elif rng.random() < SUSPENDED_SHARE:
                        grant._suspended_at = self.between(provisioned + timedelta(hours=12), self.now)
                    self.grants.append(grant)
        for grant in self.grants:
            self._settle(grant)
        Grant.objects.bulk_create(self.grants, batch_size=BATCH)
        through = Grant.permissible_uses.through
        links = [through(grant_id=g.pk, permissibleuse_id=use.pk) for g in self.grants for use in g._uses]
        through.objects.bulk_create(links, batch_size=5 * BATCH)
        self._attach_links(self.grants, links, "permissibleuse_id")
        # Validation items go in the portal's order (audits.services.ITEM_ORDER), as PostgreSQL sorts it.
        ranked = Grant.objects.order_by(*ITEM_ORDER).values_list("pk", flat=True)
        self.item_rank = {pk: n for n, pk in enumerate(ranked.iterator(chunk_size=5 * BATCH))}
        by_department = defaultdict(list)
        for grant in self.grants:
            by_department[grant.department_id].append(grant)
        for department in self.departments:
            self._plan_validations(department, by_department[department.pk])
        for grant in self.revoked:  # ended by a validation's removal
            self._settle(grant)
        Grant.objects.bulk_update(self.revoked, ["status", "ended_at", "last_used_at"], batch_size=BATCH)
        ended = sum(1 for g in self.grants if g.ended_at)
        staff = sum(1 for g in self.grants if g.role != Role.END_USER)
        return f"{len(self.grants):,} grants ({ended:,} ended, {staff:,} with a staff role)"

    def _spread(self, holders: int, total: int, most: int) -> list[int]:
        """`total` grants over `holders` people, 1 to `most` each, unevenly."""
        counts = [total // holders + (1 if n < total % holders else 0) for n in range(holders)]
        for _ in range(holders):
            give, take = self.rng.randrange(holders), self.rng.randrange(holders)
            if counts[give] > 1 and counts[take] < most:
                counts[give] -= 1
                counts[take] += 1
        return counts

    def _pick_uses(self, department, system) -> list[PermissibleUse]:
        allowed = self.allowed_uses.get((department.pk, system.pk))
        if allowed is None:
            allowed = self.allowed_uses[department.pk, system.pk] = list(
                authorized_uses(department=department, system=system).order_by("intended_use__position", "position"))
        picked = self.rng.sample(range(len(allowed)), min(len(allowed), self.rng.choice((1, 1, 2))))
        return [allowed[n] for n in sorted(picked)]  # in Table 1's order

    def _settle(self, grant: Grant):
        """The grant's state now, from its planned dates."""
        if grant._suspended_at and grant.ended_at and grant._suspended_at >= grant.ended_at:
            grant._suspended_at = None
        if grant.ended_at:
            grant.status = Grant.Status.REMOVED
        elif grant._suspended_at:
            grant.status = Grant.Status.SUSPENDED
        last = grant.ended_at or self.now
        if grant.ended_at or self.rng.random() >= NEVER_USED_SHARE:
            grant.last_used_at = self.between(max(grant.provisioned_at, last - timedelta(days=20)), last)

    def _validation_dates(self) -> list[tuple[date, date | None]]:
        """A draft of (period, sign-off day or None while open), oldest first: where the department
        stands today (this year's validation open for a few days, or the last one signed some months
        ago), counted back a year less the lead time at a time. `_plan_validations` takes from it the
        first period and how long each validation took to sign, and counts the periods by the rule."""
        rng = self.rng
        earliest = timezone.localtime(self.start).date() + timedelta(days=60)
        step = next_due_on(last_completed=self.today, today=self.today) - self.today
        dates = []
        if rng.random() < OPEN_VALIDATION_SHARE:
            period = self.today - timedelta(days=rng.randint(1, 25))
            dates.append((period, None))
            signed = period - step
        else:
            signed = self.today - timedelta(days=rng.randint(20, 330))
        while True:
            period = signed - timedelta(days=rng.randint(5, 40))  # signed after the due date now and then
            if period < earliest:
                break
            dates.append((period, signed))
            signed = period - step
        return dates[::-1]

    def _plan_validations(self, department, grants):
        """The department's annual validations, oldest first. After the first, each opens on the day
        `next_due_on` gives for the completion of the one before, as the nightly opening does; one
        whose sign-off day has not come yet is open now."""
        rng = self.rng
        head = department.head
        draft = self._validation_dates()
        if not draft:
            return
        period = draft[0][0]
        # Past the draft's last, the rule may have made one more due by today.
        for drafted, signed in [*draft, (None, None)]:
            opened = self.at(period, 2, rng.randint(0, 59))
            if opened >= self.now:
                break
            validation = Validation(kind=Validation.Kind.ANNUAL, department=department, period=period,
                                    due_date=sign_off_due_on(opened_on=period), opened_at=opened,
                                    status=Validation.Status.OPEN)
            validation._items = []
            self.validations.append(validation)
            under_review = [g for g in grants
                            if g.provisioned_at < opened and (g.ended_at is None or g.ended_at > opened)]
            under_review.sort(key=lambda g: self.item_rank[g.pk])
            signed_on = None if signed is None else period + (signed - drafted)
            if signed_on is None or signed_on >= self.today:
                self._decide_open(validation, under_review, head)
                break
            self._decide_signed(validation, under_review, head, self.office_hours(signed_on))
            period = next_due_on(last_completed=timezone.localtime(validation.completed_at).date(), today=self.today)

    def _item(self, validation, grant, decision, decided_at=None, by=None, reason="", follow_up=None):
        item = ValidationItem(validation=validation, grant=grant, decision=decision, decided_at=decided_at,
                              decided_by=by, reason=reason, follow_up=follow_up)
        validation._items.append(item)
        self.items.append(item)
        return item

    def _decide_signed(self, validation, grants, head, signed_at):
        rng = self.rng
        Decision = ValidationItem.Decision
        completed = signed_at
        kept = 0
        for grant in grants:
            if grant.ended_at and grant.ended_at <= signed_at:
                self._item(validation, grant, Decision.CLOSED, signed_at)
                continue
            decided = self.between(validation.opened_at, signed_at)
            if rng.random() < REVOKE_SHARE:
                reason = rng.choice(REVOKE_REASONS)
                processed = min(signed_at + self.days(0.5, 7), self.now - timedelta(hours=1))
                follow_up = self._queued_removal(validation, grant, head, decided, reason, processed)
                self._item(validation, grant, Decision.REVOKE, decided, head, reason, follow_up)
                grant.ended_at, grant._removal = processed, follow_up
                self.revoked.append(grant)
                completed = max(completed, processed)
            else:
                self._item(validation, grant, Decision.KEEP, decided, head)
                kept += 1
        validation.signed_off_by, validation.signed_off_at = head, signed_at
        validation.sign_off_statement = sign_off_statement(validation=validation, by=head, kept=kept,
                                                           signed_at=signed_at)
        validation.status, validation.completed_at = Validation.Status.COMPLETE, completed

    def _decide_open(self, validation, grants, head):
        rng = self.rng
        Decision = ValidationItem.Decision
        progress = rng.uniform(0, 0.8)
        for grant in grants:
            if grant.ended_at or rng.random() >= progress:
                self._item(validation, grant, Decision.PENDING)
                continue
            decided = self.between(validation.opened_at, self.now - timedelta(minutes=5))
            if rng.random() < REVOKE_SHARE:
                reason = rng.choice(REVOKE_REASONS)
                follow_up = self._queued_removal(validation, grant, head, decided, reason, None)
                self._item(validation, grant, Decision.REVOKE, decided, head, reason, follow_up)
            else:
                self._item(validation, grant, Decision.KEEP, decided, head)

    def _queued_removal(self, validation, grant, head, decided, reason, processed):
        """The removal a validation sends straight to ITSA (access_request_queue_for_itsa)."""
        return self._request(
            grant, Action.REMOVE, Status.COMPLETED if processed else Status.WITH_ITSA, decided, head,
            approved_at=decided, processed_at=processed, queued=True,
            justification=revocation_justification(validation=validation, reason=reason),
        )

    # --- Access requests -------------------------------------------------------------------------

    def _request(self, grant, action, status, submitted, requested_by, *, approved_at=None, processed_at=None,
                 justification="", queued=False, person=None, system=None, department=None, role=None,
                 uses=None, **fields) -> AccessRequest:
        """A request in its final state; `_request_events` tells the states it went through."""
        department = department or grant.department
        person = person or grant.person
        if filed_as_approved(department=department, person=person, by=requested_by):
            queued, approved_at = True, submitted  # the head's filing is the approval: straight to ITSA
        processed_by = None
        if processed_at or status == Status.RETURNED:
            processed_by = grant.provisioned_by if grant and action == Action.ADD else self.rng.choice(self.itsa)
        request = AccessRequest(
            department=department, person=person, system=system or grant.system, action=action,
            role=role or grant.role, justification=justification, status=status, requested_by=requested_by,
            submitted_at=submitted, approved_by=department.head if approved_at else None, approved_at=approved_at,
            processed_by=processed_by, processed_at=processed_at,
            grant=None if action == Action.ADD else grant, **fields,
        )
        # The request made the grant only once ITSA provisioned it: its written text names no grant.
        request._grant_after = grant if action == Action.ADD and status == Status.COMPLETED else None
        request._uses = uses if uses is not None else grant._uses
        request._queued = queued
        self.requests.append(request)
        return request

    def build_requests(self) -> str:
        rng = self.rng
        for grant in self.grants:
            department = grant.department
            by = self._requester(department)
            lead = rng.uniform(1, 20)
            submitted = grant.provisioned_at - timedelta(days=lead)
            why = STAFF_REASONS.get(grant.role) or rng.choice(ADD_REASONS)
            self._earlier_attempt(grant, by, submitted, why)
            self._request(grant, Action.ADD, Status.COMPLETED, submitted, by,
                          approved_at=submitted + timedelta(days=lead * rng.uniform(0.1, 0.6)),
                          processed_at=grant.provisioned_at, account_name=grant.account_name, justification=why)
            if grant._suspended_at:
                asked = max(grant.provisioned_at, grant._suspended_at - self.days(0.5, 5))
                grant._suspension = self._request(
                    grant, Action.SUSPEND, Status.COMPLETED, asked, self._requester(department),
                    approved_at=asked + (grant._suspended_at - asked) / 2, processed_at=grant._suspended_at,
                    justification=SUSPEND_REASON)
            if grant.ended_at and not grant._removal:
                asked = max(grant.provisioned_at, grant.ended_at - self.days(0.2, 5))
                grant._removal = self._request(grant, Action.REMOVE, Status.COMPLETED, asked,
                                               self._requester(department),
                              approved_at=asked + (grant.ended_at - asked) / 2, processed_at=grant.ended_at,
                              justification=rng.choice(REMOVE_REASONS))
        self._open_requests()
        self._number_and_write()
        AccessRequest.objects.bulk_create(self.requests, batch_size=BATCH)
        through = AccessRequest.permissible_uses.through
        links = [through(accessrequest_id=r.pk, permissibleuse_id=use.pk) for r in self.requests for use in r._uses]
        through.objects.bulk_create(links, batch_size=5 * BATCH)
        self._attach_links(self.requests, links, "permissibleuse_id")
        by_status = defaultdict(int)
        for request in self.requests:
            by_status[request.status] += 1
        return f"{len(self.requests):,} requests (" + ", ".join(
            f"{by_status[s]:,} {STATUS_WORDS[s]}" for s in Status.values if by_status[s]) + ")"

    def _requester(self, department, *, or_head: bool = True) -> User:
        # Mostly an authorized requester; now and then the head files it, and it goes straight to ITSA.
        if or_head and self.rng.random() < 0.1:
            return department.head
        return self.rng.choice(self.requesters[department.pk])

    def _earlier_attempt(self, grant, by, submitted, why):
        """A request for the same access returned, declined or withdrawn before the one completed."""
        rng = self.rng
        draw = rng.random()
        earlier = submitted - self.days(5, 30)
        if earlier < self.start or draw >= RETURNED_SHARE + DECLINED_SHARE + WITHDRAWN_SHARE:
            return
        if draw < RETURNED_SHARE:
            self._request(grant, Action.ADD, Status.RETURNED, earlier, by, approved_at=earlier + self.days(0.5, 2),
                          processed_at=earlier + self.days(2, 4), justification=why,
                          return_reason=rng.choice(RETURN_REASONS))
        elif draw < RETURNED_SHARE + DECLINED_SHARE:
            if by == grant.department.head:  # the head declines what others filed; their own filing is approved
                by = self._requester(grant.department, or_head=False)
            self._request(grant, Action.ADD, Status.DECLINED, earlier, by, approved_at=earlier + self.days(0.5, 3),
                          justification=why, head_reason=rng.choice(DECLINE_REASONS))
        else:
            request = self._request(grant, Action.ADD, Status.WITHDRAWN, earlier, by, justification=why)
            request._withdrawn_at = earlier + self.days(0.1, 3)

    def _open_requests(self):
        """Requests in flight now, for access the person does not hold and has not asked for yet."""
        rng = self.rng
        live = {(g.person_id, g.system_id) for g in self.grants if g.ended_at is None}
        asked = {(r.person_id, r.system_id) for r in self.requests if r.status in AccessRequest.OPEN_STATUSES}
        total = len(self.grants)
        wanted = [(Status.AWAITING_HEAD, round(total * AWAITING_SHARE)),
                  (Status.WITH_ITSA, round(total * WITH_ITSA_SHARE))]
        for status, count in wanted:
            for _ in range(count * 5):  # a few draws find no free system: try again
                if count == 0:
                    break
                department = rng.choice(self.departments)
                person = rng.choice(self.staff_of[department.pk])
                free = [s for s in self.systems_of[department.pk]
                        if (person.pk, s.pk) not in live and (person.pk, s.pk) not in asked]
                if not free:
                    continue
                system = rng.choice(free)
                submitted = self.now - self.days(0.1, 14)
                approved = self.between(submitted, self.now) if status == Status.WITH_ITSA else None
                by = self._requester(department, or_head=status != Status.AWAITING_HEAD)
                self._request(None, Action.ADD, status, submitted, by, person=person,
                              system=system, department=department, role=Role.END_USER,
                              uses=self._pick_uses(department, system), approved_at=approved,
                              justification=rng.choice(ADD_REASONS))
                asked.add((person.pk, system.pk))
                count -= 1

    def _number_and_write(self):
        """References in the order of filing, per year; the written text frozen with its fingerprint."""
        counters = defaultdict(int)
        written = WrittenText()
        for request in sorted(self.requests, key=lambda r: r.submitted_at):
            year = timezone.localtime(request.submitted_at).year
            counters[year] += 1
            request.reference = request_reference(year=year, number=counters[year])
            request.written_text = written(request, request._uses)
            request.written_sha256 = written_fingerprint(request.written_text)
            if request._grant_after:  # a completed addition points at the grant it made
                request.grant = request._grant_after

    # --- Validations -----------------------------------------------------------------------------

    def build_validations(self) -> str:
        with _dates_as_given(Validation._meta.get_field("opened_at")):
            Validation.objects.bulk_create(self.validations, batch_size=BATCH)
        ValidationItem.objects.bulk_create(self.items, batch_size=BATCH)
        open_now = sum(1 for v in self.validations if v.status == Validation.Status.OPEN)
        return f"{len(self.validations):,} annual validations ({open_now} open), {len(self.items):,} items"

    # --- History -------------------------------------------------------------------------------

    def _rows(self, model, obj, events, m2m=None):
        """History rows of `obj`: `events` is [(type, when, user, fields that differed then)]."""
        history = HISTORY[model]
        base = _snapshot(history, obj)
        rows = []
        for kind, when, user, changes in events:
            fields = {name: value for name, value in changes.items() if name != "_reason"}
            row = history(**{**base, **fields}, history_type=kind, history_date=when, history_user=user,
                          history_change_reason=changes.get("_reason"))
            row._m2m = m2m
            rows.append(row)
        return rows

    def _write(self, model, rows, m2m_field=None) -> int:
        history = HISTORY[model]
        history.objects.bulk_create(rows, batch_size=BATCH)
        written = len(rows)
        if m2m_field:
            m2m_model = history._meta.apps.get_model(history._meta.app_label, f"{history.__name__}_{m2m_field}")
            key = model._meta.model_name
            target = getattr(model, m2m_field).field.related_model._meta.model_name
            links = [m2m_model(id=link, history_id=row.pk, **{f"{key}_id": row.id, f"{target}_id": pk})
                     for row in rows for link, pk in row._m2m or ()]
            m2m_model.objects.bulk_create(links, batch_size=5 * BATCH)
            written += len(links)
        return written

    def history_organisation(self) -> str:
        created = self.start - timedelta(days=60)
        written = self._write(User, [row for p in [*self.city_people, *self.people]
                                     for row in self._rows(User, p, [("+", p.date_joined, None, {})])])
        written += self._write(Department, [row for d in self.departments
                                           for row in self._rows(Department, d, [("+", created, None, {})])])
        written += self._write(SurveillanceSystem, [
            row for s in self.systems for row in self._rows(SurveillanceSystem, s, [("+", created, None, {})])])
        written += self._write(AuthorizedRequester, [
            row for e in self.requester_entries
            for row in self._rows(AuthorizedRequester, e, [("+", e.added_at, e.added_by, {})])])
        rows = []
        for access in self.access:
            events = [("+", access.requested_at, access.requested_by,
                       {"status": DepartmentAccess.Status.PENDING, "decided_by_id": None, "decided_at": None,
                        "decision_reason": ""})]
            if access.decided_at:
                events.append(("~", access.decided_at, access.decided_by, {}))
            rows += self._rows(DepartmentAccess, access, events, m2m=access._links)
        written += self._write(DepartmentAccess, rows, "intended_uses")
        return f"{written:,} rows"

    def history_grants(self) -> str:
        rows = []
        for grant in self.grants:
            live = {"status": Grant.Status.ACTIVE, "ended_at": None}
            events = [("+", grant.provisioned_at, grant.provisioned_by, dict(live))]
            if grant._suspended_at:
                by = grant._suspension.processed_by
                events.append(("~", grant._suspended_at, by, {
                    **live, "status": Grant.Status.SUSPENDED,
                    "_reason": grant_status_reason(status=Grant.Status.SUSPENDED, by=by)}))
            if grant.ended_at:
                by = grant._removal.processed_by
                events.append(("~", grant.ended_at, by, {
                    "_reason": grant_status_reason(status=Grant.Status.REMOVED, by=by)}))
            rows += self._rows(Grant, grant, events, m2m=grant._links)
        return f"{self._write(Grant, rows, 'permissible_uses'):,} rows"

    def history_requests(self) -> str:
        rows, written = [], 0
        for request in self.requests:
            rows += self._rows(AccessRequest, request, self._request_events(request), m2m=request._links)
            if len(rows) >= 10 * BATCH:  # the written text makes these rows large: a batch at a time
                written += self._write(AccessRequest, rows, "permissible_uses")
                rows = []
        written += self._write(AccessRequest, rows, "permissible_uses")
        return f"{written:,} rows"

    def _request_events(self, r: AccessRequest) -> list:
        """The states a request went through, as the services would have saved them."""
        not_processed = {"processed_by_id": None, "processed_at": None, "return_reason": "",
                         "grant_id": r.grant_id if r.action != Action.ADD else None, "account_name": ""}
        awaiting = {**not_processed, "status": Status.AWAITING_HEAD, "approved_by_id": None, "approved_at": None,
                    "head_reason": ""}
        with_itsa = {**not_processed, "status": Status.WITH_ITSA}
        if r._queued:
            events = [("+", r.submitted_at, r.requested_by, with_itsa)]
        else:
            events = [("+", r.submitted_at, r.requested_by, awaiting)]
            if r.status in (Status.WITH_ITSA, Status.COMPLETED, Status.RETURNED):
                events.append(("~", r.approved_at, r.approved_by, with_itsa))
        if r.status in (Status.COMPLETED, Status.RETURNED):
            events.append(("~", r.processed_at, r.processed_by, {}))
        elif r.status == Status.DECLINED:
            events.append(("~", r.approved_at, r.approved_by, {}))
        elif r.status == Status.WITHDRAWN:
            events.append(("~", r._withdrawn_at, r.requested_by, {}))
        return events

    def history_validations(self) -> str:
        Decision = ValidationItem.Decision
        validations, items = [], []
        for v in self.validations:
            events = [("+", v.opened_at, None, {"status": Validation.Status.OPEN, "signed_off_by_id": None,
                                                "signed_off_at": None, "sign_off_statement": "",
                                                "completed_at": None})]
            if v.signed_off_at:
                events.append(("~", v.signed_off_at, v.signed_off_by,
                               {"status": Validation.Status.SIGNED_OFF, "completed_at": None}))
                events.append(("~", v.completed_at, None, {}))
            validations += self._rows(Validation, v, events)
            for item in v._items:
                item_events = [("+", v.opened_at, None, {"decision": Decision.PENDING, "decided_by_id": None,
                                                         "decided_at": None, "reason": "", "follow_up_id": None})]
                if item.decided_at:
                    item_events.append(("~", item.decided_at, item.decided_by, {}))
                items += self._rows(ValidationItem, item, item_events)
        written = self._write(Validation, validations) + self._write(ValidationItem, items)
        return f"{written:,} rows"

    def record(self) -> str:
        audit_record(actor=None, action="seed_scale.build",
                     detail=f"{len(self.departments)} departments, {len(self.systems)} systems, "
                            f"{len(self.city_people) + len(self.people)} people, {len(self.grants)} grants, "
                            f"{len(self.requests)} access requests, {len(self.validations)} validations, "
                            "written in bulk by the benchmark's seed_scale")
        return ""


if __name__ == "__main__":
    Command().run_from_argv(["python", "bench/seed_scale.py", *sys.argv[1:]])
