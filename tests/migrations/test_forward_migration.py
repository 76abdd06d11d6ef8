"""Existing databases migrate forward without loss (One shape for every workflow).

A city's database, built and filled at the schema of 2026-12-06 (before the workflows moved to their
own apps), is loaded into a new database with `psql`, migrated with today's code, and checked: no
table lost its rows, every content type still names a model of the portal, and the audit trail and
the separation-of-duties scan still pass on it.

The dump (fixtures/schema-2026-12-06.sql.gz) is the demo city (`seed_demo`) with a row in the tables
it leaves empty, added through the services of that day: a status change, a refused request kept as a
separation-of-duties finding, a validation reminder, published reports, a lockout and a sign-in, and
admin log entries, model permissions and object permissions on each model that moves. Its audit
trail is signed with FIXTURE_KEYS, which the commands here are given.
"""

import gzip
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

from services import in_ci, require_postgres

ROOT = Path(__file__).resolve().parents[2]
DUMP = Path(__file__).with_name("fixtures") / "schema-2026-12-06.sql.gz"
# The keys the dump's audit chain was signed with: published here on purpose, test data only.
FIXTURE_KEYS = {
    "DJANGO_SECRET_KEY": "fixture-secret-key-not-for-any-city",
    "AUDIT_CHAIN_KEY": "fixture-audit-chain-key-not-for-any-city",
}
# The portal's apps on the day of the dump; the apps it has now are added from INSTALLED_APPS.
APPS_OF_THE_DUMP = {"portal", "accounts", "security", "access_requests", "audits", "pages"}
MUST_HAVE_ROWS = [
    "audits_waiver", "audits_incident", "audits_retentionextension", "audits_publishedreport",
    "accounts_sharingagreement", "access_requests_externalconnection", "audits_historicalwaiver_grants",
    "audits_historicalincident_suspended_grants", "audits_historicalretentionextension_systems",
    "accounts_historicalsharingagreement_systems", "access_requests_historicalexternalconnection_systems",
    "guardian_userobjectpermission", "guardian_groupobjectpermission", "auth_group_permissions", "django_admin_log",
]


def _unavailable(message: str):
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _server() -> dict:
    from django.conf import settings

    database = settings.DATABASES["default"]
    return {"host": database.get("HOST") or "", "port": str(database.get("PORT") or ""),
            "user": database.get("USER") or "", "password": database.get("PASSWORD") or ""}


def _connect(server: dict, dbname: str):
    import psycopg

    return psycopg.connect(dbname=dbname, host=server["host"] or None, port=server["port"] or None,
                           user=server["user"] or None, password=server["password"] or None, autocommit=True)


def _psql(server: dict) -> str:
    """psql on the PATH, or beside the server's own binaries (Debian keeps them out of the PATH)."""
    found = shutil.which("psql")
    if found:
        return found
    with _connect(server, "postgres") as connection:
        major = connection.info.server_version // 10000
    for folder in (os.environ.get("PG_BIN"), f"/usr/lib/postgresql/{major}/bin", f"/usr/pgsql-{major}/bin"):
        if folder and os.access(Path(folder) / "psql", os.X_OK):
            return str(Path(folder) / "psql")
    _unavailable("psql is required to load the dump of an existing database (the postgresql-client package).")
    raise AssertionError("unreachable")


def _url(server: dict, dbname: str) -> str:
    who = quote(server["user"], safe="")
    if server["password"]:
        who += ":" + quote(server["password"], safe="")
    where = server["host"] + (f":{server['port']}" if server["port"] else "")
    return f"postgres://{who}@{where}/{dbname}"


def _manage(database_url: str, *args) -> subprocess.CompletedProcess:
    # The suite's own environment, less its Django settings: development, on the loaded database.
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PORTAL_"))}
    environment.update(FIXTURE_KEYS, DATABASE_URL=database_url)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True,
                          text=True, timeout=300)


def _tables(connection) -> dict[str, int]:
    """Every table of the database and its number of rows."""
    names = [name for (name,) in connection.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
    return {name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}


def _content_types(connection) -> dict[int, tuple[str, str]]:
    return {pk: (app_label, model) for pk, app_label, model in connection.execute(
        "SELECT id, app_label, model FROM django_content_type")}


def _model_part(table: str, app_labels: set[str]) -> str | None:
    """The part of a table's name after its app label, which a table renamed for a new app label
    keeps (audits_historicalwaiver_grants, waivers_historicalwaiver_grants)."""
    for label in sorted(app_labels, key=len, reverse=True):
        if table.startswith(label + "_"):
            return table[len(label) + 1:]
    return None


def _project_app_labels() -> set[str]:
    from django.apps import apps

    return APPS_OF_THE_DUMP | {config.label for config in apps.get_app_configs()
                               if Path(config.path).resolve().is_relative_to(ROOT)
                               and ".venv" not in Path(config.path).parts}


@pytest.fixture
def loaded_database():
    """A new database on the test server holding the dump; dropped afterwards."""
    require_postgres()
    server = _server()
    psql = _psql(server)
    name = f"portal_migrate_{uuid.uuid4().hex[:12]}"
    with _connect(server, "postgres") as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        environment = {**os.environ, "PGPASSWORD": server["password"]} if server["password"] else None
        command = [psql, "-X", "-v", "ON_ERROR_STOP=1", "-q", "-d", name, "-f", "-"]
        command += [f"--host={server['host']}"] if server["host"] else []
        command += [f"--port={server['port']}"] if server["port"] else []
        command += [f"--username={server['user']}"] if server["user"] else []
        loaded = subprocess.run(command, input=gzip.decompress(DUMP.read_bytes()), capture_output=True,
                                env=environment, timeout=300)
        assert loaded.returncode == 0, loaded.stderr.decode(errors="replace")
        yield server, name
    finally:
        with _connect(server, "postgres") as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_a_database_of_2026_12_06_migrates_forward_without_loss(loaded_database):
    """Existing databases migrate forward without loss (One shape for every workflow): the migrations
    keep every table's rows and relabel the content types of what moved, and the audit trail and the
    separation-of-duties scan still pass on the migrated database."""
    from django.apps import apps

    server, name = loaded_database
    with _connect(server, name) as connection:
        tables_before = _tables(connection)
        types_before = _content_types(connection)
    # The dump has rows where a move could lose them: each moving model, a history table of its
    # many-to-many fields, and the rows that point at content types.
    empty = [table for table in MUST_HAVE_ROWS if not tables_before.get(table)]
    assert not empty, f"the dump has no rows in {empty}"
    url = _url(server, name)

    migrated = _manage(url, "migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr

    with _connect(server, name) as connection:
        tables_after = _tables(connection)
        types_after = _content_types(connection)

    # A table keeps at least its rows under its name, or, renamed, exactly one new table with the same
    # name after its app label holds exactly its rows.
    labels = _project_app_labels()
    new_tables = set(tables_after) - set(tables_before)
    lost = []
    for table, rows in tables_before.items():
        if table in tables_after:
            if tables_after[table] < rows:
                lost.append(f"{table}: {rows} rows, now {tables_after[table]}")
            continue
        part = _model_part(table, labels)
        successors = [new for new in new_tables if part and new.endswith("_" + part)]
        if len(successors) != 1 or tables_after[successors[0]] != rows:
            found = ", ".join(f"{new} ({tables_after[new]} rows)" for new in successors) or "no table"
            lost.append(f"{table}: {rows} rows, gone; in its place {found}")
    assert not lost, "tables lost rows in the migration:\n" + "\n".join(lost)

    # Permissions, object permissions and admin log entries point at a content type by id: each must
    # still be there and, for the portal's apps, name a model of today's code whose table exists.
    unresolved = []
    for pk, (app_label, model) in sorted(types_before.items()):
        if pk not in types_after:
            unresolved.append(f"content type {pk} ({app_label}.{model}) was deleted")
            continue
        label_now, model_now = types_after[pk]
        if app_label not in labels and label_now not in labels:
            continue
        try:
            db_table = apps.get_model(label_now, model_now)._meta.db_table
        except LookupError:
            unresolved.append(f"content type {pk} ({app_label}.{model}, now {label_now}.{model_now}) names no model")
            continue
        if db_table not in tables_after:
            unresolved.append(f"content type {pk} ({label_now}.{model_now}): its table {db_table} does not exist")
    assert not unresolved, "content types lost their models:\n" + "\n".join(unresolved)

    verified = _manage(url, "verify_audit_log")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    intact = re.fullmatch(r"(\d+) entries, chain intact; 1 anchor matched", verified.stdout.strip())
    assert intact, verified.stdout
    assert int(intact[1]) >= tables_before["portal_auditevent"]

    scanned = _manage(url, "sod_scan")
    assert scanned.returncode == 0, scanned.stdout + scanned.stderr
    assert scanned.stdout.startswith("No separation-of-duties violation:"), scanned.stdout


def test_the_models_and_the_migrations_agree(tmp_path):
    """Every change to a model has its migration: `makemigrations --check` finds nothing to write."""
    checked = _manage(f"sqlite:///{tmp_path / 'empty.sqlite3'}", "makemigrations", "--check", "--dry-run")

    assert checked.returncode == 0, checked.stdout + checked.stderr
