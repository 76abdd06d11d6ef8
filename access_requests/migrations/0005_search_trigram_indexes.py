"""Trigram indexes for the searches of the request lists and the queue (PostgreSQL only).

The searches match any part of a reference, a person's name or e-mail (`icontains`, which Django
writes as UPPER(column::text) LIKE UPPER('%text%')). Without an index PostgreSQL read every person
of the city and every request of the department for each search (bench/README.md). pg_trgm is a
trusted extension: the database's owner may create it. SQLite, for development, needs no index.
"""

from django.db import migrations

INDEXES = [
    ("accounts_user_full_name_trgm", "accounts_user", "full_name"),
    ("accounts_user_email_trgm", "accounts_user", "email"),
    ("access_request_reference_trgm", "access_requests_accessrequest", "reference"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin (UPPER(("{column}")::text) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _, _ in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("access_requests", "0004_list_indexes"),
        ("accounts", "0001_initial"),
    ]

    operations = [migrations.RunPython(create, drop)]
