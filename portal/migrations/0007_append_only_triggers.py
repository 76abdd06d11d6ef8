"""On PostgreSQL, the database itself refuses to change or delete audit entries and history rows.

The ORM already refuses (AuditEvent, `portal.history.AppendOnlyHistory`); these triggers also stop
a plain UPDATE or DELETE from a database shell or another program. TRUNCATE is refused since
0009. The chain head may only move forward, one entry at a time.

A NEW HISTORICAL TABLE NEEDS THE TRIGGER TOO: add a migration that runs
`CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON <table> FOR EACH ROW EXECUTE FUNCTION
portal_append_only()` on PostgreSQL (see `forwards` below), and the no_truncate trigger of 0009.
`tests/portal/test_audit_chain.py` lists every historical model and fails for a table without them.

SQLite has no such trigger: Django empties its tables with DELETE between tests.
"""

from django.db import migrations

APPEND_ONLY_TABLES = [
    "portal_auditevent",
    "accounts_historicaluser",
    "accounts_historicaldepartment",
    "accounts_historicalsurveillancesystem",
    "accounts_historicalauthorizedrequester",
    "accounts_historicalgrant",
    "accounts_historicalgrant_permissible_uses",
    "access_requests_historicaldepartmentaccess",
    "access_requests_historicaldepartmentaccess_intended_uses",
    "access_requests_historicalaccessrequest",
    "access_requests_historicalaccessrequest_permissible_uses",
    "access_requests_historicalstatuschange",
    "audits_historicalvalidation",
    "audits_historicalvalidationitem",
]

FUNCTIONS = """
CREATE OR REPLACE FUNCTION portal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % refused: its rows are append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE OR REPLACE FUNCTION portal_audit_chain_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'the audit chain head cannot be deleted' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.id <> OLD.id OR NEW.seq <> OLD.seq + 1 THEN
        RAISE EXCEPTION 'the audit chain head only moves forward, one entry at a time'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTIONS, params=None)
    quote = schema_editor.quote_name
    for table in APPEND_ONLY_TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON {quote(table)} "
            "FOR EACH ROW EXECUTE FUNCTION portal_append_only()"
        )
    schema_editor.execute(
        f"CREATE TRIGGER forward_only BEFORE UPDATE OR DELETE ON {quote('portal_auditchainhead')} "
        "FOR EACH ROW EXECUTE FUNCTION portal_audit_chain_head_forward()"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    for table in APPEND_ONLY_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS append_only ON {quote(table)}")
    schema_editor.execute(f"DROP TRIGGER IF EXISTS forward_only ON {quote('portal_auditchainhead')}")
    schema_editor.execute("DROP FUNCTION IF EXISTS portal_append_only()")
    schema_editor.execute("DROP FUNCTION IF EXISTS portal_audit_chain_head_forward()")


class Migration(migrations.Migration):

    dependencies = [
        ("portal", "0006_audit_chain_required"),
        # The latest migrations of the apps whose historical tables get the trigger.
        ("accounts", "0004_requester_end_is_exclusive"),
        ("access_requests", "0002_initial"),
        ("audits", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
