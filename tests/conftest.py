"""The people every test talks about, in one place.

`city` builds two departments: the Police Department (head, an authorized requester, officers)
authorized to use the video management system for public safety, and the Streets Department
(its head is the outsider for police objects). ITSA has two administrators; the Mayor has a
designee; the auditor reads every department's records for oversight and works for none. Everyone
who signs in uses PASSWORD.
"""

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

PASSWORD = "correct horse battery staple"

# Playwright's sync API runs an event loop in the test thread; the ORM calls the browser tests
# make around it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_configure(config):
    """WhiteNoise indexes every file under STATIC_ROOT each time its middleware is built (16,000 with
    the front-end packages and their compressed copies, which bin/test collects), and the test client
    builds the middleware again for every new client: about 0.7 s a test. In the tests it looks a
    file up when one is asked for instead, as it does in development."""
    from django.conf import settings

    settings.WHITENOISE_AUTOREFRESH = True
    _flush_with_the_triggers_off()


def _flush_with_the_triggers_off():
    """On PostgreSQL the audit trail and the history tables refuse TRUNCATE (portal migration 0009),
    and TRUNCATE is how Django empties the database after a transactional test. The test database's
    superuser runs that one transaction as a replica, under which no trigger fires."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    sql_flush = DatabaseOperations.sql_flush

    def sql_flush_as_replica(self, style, tables, **kwargs):
        statements = sql_flush(self, style, tables, **kwargs)
        return ["SET LOCAL session_replication_role = replica", *statements] if statements else statements

    DatabaseOperations.sql_flush = sql_flush_as_replica


@dataclass
class City:
    police: object
    streets: object
    vms: object
    lpr: object
    traffic: object
    head: object
    requester: object
    officer: object
    analyst: object
    outsider: object
    streets_worker: object
    itsa: object
    itsa2: object
    designee: object
    auditor: object
    police_vms: object
    crime_detection: object
    investigations: object
    traffic_monitoring: object


def build_city():
    from accounts.models import DESIGNEE_GROUP, ITSA_GROUP, OVERSIGHT_GROUP, Department, SurveillanceSystem, User
    from accounts.services import authorized_requester_add, department_set_head, role_group
    from portal.models import IntendedUse, PermissibleUse
    from portal.table1 import load_table_1
    from access_requests.services import department_access_decide, department_access_request

    # Tests on a transactional database start from empty tables: the migration's rows are gone.
    load_table_1(IntendedUse, PermissibleUse)

    def person(email, name, department=None, password=PASSWORD):
        return User.objects.create_user(email=email, password=password, full_name=name, department=department)

    police = Department.objects.create(name="Police Department", code="police")
    streets = Department.objects.create(name="Streets Department", code="streets")
    itsa = person("itsa@city.example", "Ida ITSA")
    itsa2 = person("itsa2@city.example", "Ike ITSA")
    designee = person("designee@city.example", "Dana Designee")
    itsa.groups.add(role_group(ITSA_GROUP))
    itsa2.groups.add(role_group(ITSA_GROUP))
    designee.groups.add(role_group(DESIGNEE_GROUP))
    # Added directly, as ITSA is: the appointment workflow has its own tests (tests/security).
    auditor = person("auditor@city.example", "Audrey Auditor")
    auditor.groups.add(role_group(OVERSIGHT_GROUP))

    head = person("head@police.example", "Hana Head", police)
    requester = person("requester@police.example", "Rick Requester", police)
    officer = person("officer@police.example", "Olive Officer", police)
    analyst = person("analyst@police.example", "Andy Analyst", police)
    outsider = person("head@streets.example", "Oscar Outsider", streets)
    streets_worker = person("worker@streets.example", "Wendy Worker", streets)

    police = department_set_head(department=police, head=head, by=itsa)
    streets = department_set_head(department=streets, head=outsider, by=itsa)
    for dept, who in ((police, head), (police, requester), (streets, outsider)):
        authorized_requester_add(department=dept, person=who, by=itsa)

    vms = SurveillanceSystem.objects.create(name="Citywide VMS", code="vms", kind="vms")
    lpr = SurveillanceSystem.objects.create(name="Plate Readers", code="lpr", kind="lpr", is_license_plate_reader=True)
    traffic = SurveillanceSystem.objects.create(name="Traffic Cameras", code="traffic", kind="traffic",
                                                has_public_feed=True)

    public_safety = IntendedUse.objects.get(code="public-safety")
    police_vms = department_access_request(
        department=police, system=vms, intended_uses=[public_safety], business_need="Patrol and investigations.", by=head
    )
    department_access_decide(access=police_vms, grant=True, reason="Public safety service delivery.", by=designee)
    streets_traffic = department_access_request(
        department=streets, system=traffic, intended_uses=[IntendedUse.objects.get(code="traffic-management")],
        business_need="Signal timing.", by=outsider,
    )
    department_access_decide(access=streets_traffic, grant=True, reason="Traffic management.", by=designee)

    return City(
        police=police, streets=streets, vms=vms, lpr=lpr, traffic=traffic, head=head, requester=requester,
        officer=officer, analyst=analyst, outsider=outsider, streets_worker=streets_worker, itsa=itsa, itsa2=itsa2,
        designee=designee, auditor=auditor, police_vms=police_vms,
        crime_detection=PermissibleUse.objects.get(code="crime-detection"),
        investigations=PermissibleUse.objects.get(code="criminal-investigations"),
        traffic_monitoring=PermissibleUse.objects.get(code="traffic-monitoring"),
    )


@pytest.fixture
def city(request, db):
    # Under django_db(transaction=True) (the browser and concurrency tests) `db` is the transactional
    # database, and build_city puts back Table 1, which the flush after such a test empties.
    if hasattr(request.module, "build_world"):
        return request.getfixturevalue("world").city  # a module with one world (module_world) has its city
    return build_city()


@dataclass
class Directors:
    safety: object
    operations: object


def make_directors() -> Directors:
    """The Director of Public Safety and the City Operations Director (5.1, 3.11), who work for no
    department of the city fixture."""
    from accounts.models import OPERATIONS_DIRECTOR_GROUP, SAFETY_DIRECTOR_GROUP, User
    from accounts.services import role_group

    safety = User.objects.create_user(email="safety@city.example", password=PASSWORD, full_name="Sasha Safety")
    operations = User.objects.create_user(email="operations@city.example", password=PASSWORD,
                                          full_name="Orla Operations")
    safety.groups.add(role_group(SAFETY_DIRECTOR_GROUP))
    operations.groups.add(role_group(OPERATIONS_DIRECTOR_GROUP))
    return Directors(safety=safety, operations=operations)


@pytest.fixture
def directors(city):
    return make_directors()


@pytest.fixture
def grant(city):
    """The officer's end-user grant on the VMS, filed, approved and provisioned."""
    return provisioned(city).grant


# --- Signing in ---------------------------------------------------------------------------------

def pass_second_factor(client, user):
    """Mark the client's session as having passed the second factor, with the person's
    authenticator (made for them if they have none)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="Authenticator app", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def _signed_in_client_class():
    from django.test import Client

    class SignedInClient(Client):
        """`force_login` signs in fully: the password and, for the roles that need one, the second
        factor. The sign-in tests themselves use a plain Client and go through every step."""

        def force_login(self, user, backend=None):
            from security.services import second_factor_required

            super().force_login(user, backend)
            if second_factor_required(user):
                pass_second_factor(self, user)

    return SignedInClient


def signed_in_client(**kwargs):
    return _signed_in_client_class()(**kwargs)


def messages_of(response, *, levels=True) -> list:
    """The messages the response's request left for the next page: (level tag, text) pairs, or
    only the texts."""
    from django.contrib.messages import get_messages

    found = get_messages(response.wsgi_request)
    return [(message.level_tag, str(message)) if levels else str(message) for message in found]


@pytest.fixture
def client():
    return signed_in_client()


@pytest.fixture(autouse=True)
def _tasks_run_in_process():
    """Tasks run in the test's own process unless a test starts a real worker (see test_mail_through_a_worker)."""
    from portal.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = True


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _private_media(request, settings, tmp_path):
    if "module_world" in request.fixturenames:
        return  # the module's world keeps its files in the module's storage (module_world below)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "private", "base_url": None},
        },
    }


def stored_files(root: Path) -> list[Path]:
    """The files under a storage's root, none if it was never made."""
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


@pytest.fixture(scope="module")
def module_world(request, django_db_setup, django_db_blocker, tmp_path_factory):
    """One world for a whole test module, built by the module's `build_world()`, as Django's
    TestCase.setUpTestData does: inside an atomic block rolled back after the module's last test,
    while each test runs in its own savepoint within it (pytest-django's `db`), so every test meets
    the same state. The permission matrices and the form fuzzing check hundreds of cells each;
    building the city for each took most of their time. Uploaded files stay in one storage for the whole module."""
    from django.conf import settings
    from django.db import transaction
    from django.test import override_settings

    from portal.celery import app

    app.conf.task_always_eager = True
    storage = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": tmp_path_factory.mktemp("private"), "base_url": None},
    }}
    with django_db_blocker.unblock(), override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"], STORAGES=storage):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield request.module.build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def world(module_world, db):
    """The module's world (module_world), in the savepoint of the test that asks for it."""
    return module_world


def file_request(city, *, person=None, system=None, role="end_user", action="add", by=None, uses=None,
                 justification="Needs to review footage for open cases.", documents=(),
                 condition_statement="Case 26-001234, an active investigation, until the case closes."):
    """File a request through the service, with sensible defaults for the police department. The
    default uses are public safety's, whose condition needs a statement (T1c): one is given."""
    from access_requests.services import access_request_submit

    return access_request_submit(
        department=city.police, person=person or city.officer, system=system or city.vms, action=action, role=role,
        permissible_uses=uses if uses is not None else [city.crime_detection], justification=justification,
        by=by or city.requester, documents=documents, condition_statement=condition_statement,
    )


def make_pdf(dress=None) -> bytes:
    """A one-page PDF that passes the upload check; `dress(writer)` may add to it first (a script,
    an attachment) through pypdf's PdfWriter."""
    from io import BytesIO

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    if dress is not None:
        dress(writer)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_text(content: bytes, *, layout=False) -> str:
    """The text of a PDF. pypdf breaks lines where the layout does, so by default every run of
    whitespace becomes one space to compare on; `layout=True` keeps pypdf's lines, a page after a line break."""
    from io import BytesIO

    from pypdf import PdfReader

    pages = [page.extract_text() for page in PdfReader(BytesIO(content)).pages]
    return "\n".join(pages) if layout else " ".join(" ".join(pages).split())


def provisioned(city, **kwargs):
    """A request filed, approved by the head and provisioned by ITSA; returns the request."""
    from access_requests.services import access_request_approve, access_request_provision

    request = file_request(city, **kwargs)
    if request.is_awaiting_head:
        request = access_request_approve(request=request, by=city.head)
    return access_request_provision(request=request, by=city.itsa, account_name=f"acct-{request.person.pk}-{request.role}")


def open_validation(city):
    """The police's validation, opened with the officer's and the analyst's VMS access to review."""
    from audits.services import open_due_validations

    provisioned(city)
    provisioned(city, person=city.analyst)
    [validation] = open_due_validations()
    return validation


def rest_of_the_order_records(city, grant):
    """One record of each workflow of Sections 3.6, 3.7, 3.11 and 5, with its many-to-many rows,
    written directly (for tests about tables and the admin, not about the workflows)."""
    from datetime import timedelta

    from django.utils import timezone

    from external.models import ExternalConnection
    from agreements.models import AgreementGrant, SharingAgreement
    from incidents.models import Incident
    from retention.models import RetentionExtension
    from waivers.models import Waiver

    today = timezone.localdate()
    later = today + timedelta(days=20)
    agreement = SharingAgreement.objects.create(
        third_party="County Sheriff", category="law_enforcement", shared="Video.", conditions="Investigations.",
        department=city.police, starts_on=today, ends_on=later, requested_by=city.head)
    agreement.systems.set([city.vms])
    AgreementGrant.objects.create(grant=grant, agreement=agreement)
    connection = ExternalConnection.objects.create(
        name="Transit feed", owner="Transit", department=city.police, business_reasons="Safety.",
        method="secure_api", starts_on=today, ends_on=later, requested_by=city.head)
    connection.systems.set([city.vms])
    connection.permissible_uses.set([city.crime_detection])
    waiver = Waiver.objects.create(
        department=city.police, intended_use=city.crime_detection.intended_use, deviation="Wider area.",
        basis="safety", justification="A threat.", starts_on=today, ends_on=later, requested_by=city.head)
    waiver.grants.set([grant])
    incident = Incident.objects.create(reference="INC-TEST-1", nature="abuse", description="Watched a neighbour.",
                                       reporter_digest="0" * 64)
    incident.suspended_grants.set([grant])
    extension = RetentionExtension.objects.create(
        condition="a", justification="High crime.", starts_on=today, ends_on=later, review_on=later,
        requested_by=city.head)
    extension.systems.set([city.vms])


# --- Browser tests: Chromium through Playwright against the live server ---------------------------

@pytest.fixture(scope="session")
def browser():
    from services import CHROMIUM_ARGS, chromium_path

    path = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


# --- A real Celery worker on Redis, in this process --------------------------------------------

def _forget_broker_connections() -> None:
    # Celery keeps its producer pools for the broker it first published to: close and forget
    # them when the broker changes, so the next publish connects where it is meant to.
    import kombu.pools

    from portal.celery import app

    kombu.pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def worker_on_redis():
    """Tasks go through Redis to a worker thread. Needs PostgreSQL too: the worker writes to the
    database from its own thread, which SQLite's in-memory test database refuses."""
    from celery.contrib.testing.worker import start_worker
    from services import require_postgres, require_redis

    from portal.celery import app

    require_postgres()
    url = require_redis()
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=url, task_always_eager=False)
    _forget_broker_connections()
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield
    finally:
        app.conf.update(saved)
        _forget_broker_connections()
