"""The audit trail cannot be cut and put back quietly.

Someone with the database's credentials could copy the entries up to N, empty the table with
TRUNCATE (which the row triggers of 0007 do not see), put the copies back and write a head for N.
Against that:
- on PostgreSQL, a statement trigger refuses TRUNCATE on every append-only table (the audit
  trail, the history tables, the written requests), on the chain head and on the new anchors;
- the chain head carries an HMAC keyed like the entries (`portal.audit.chain_head_mac`); the head
  already there is signed here;
- each day's last entry is kept as an anchor (`AuditAnchor`), also append-only, and published.

A NEW APPEND-ONLY TABLE NEEDS BOTH TRIGGERS: with its `append_only` trigger (see 0007), add
`CREATE TRIGGER no_truncate BEFORE TRUNCATE ON <table> FOR EACH STATEMENT EXECUTE FUNCTION
portal_refuse_truncate()`. `tests/portal/test_audit_chain.py` fails for a table without it.

The test runner's flush, `seed_scale --wipe` and the benchmarks empty their own databases as a
superuser with `session_replication_role = replica`, under which no trigger fires.
"""

from django.db import migrations, models

from portal.audit import chain_head_mac

FUNCTION = """
CREATE OR REPLACE FUNCTION portal_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'TRUNCATE on % refused: its rows are kept for the audit trail', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""


def sign_the_head(apps, schema_editor):
    head = apps.get_model("portal", "AuditChainHead").objects.filter(pk=1).first()
    if head is None:
        return
    postgres = schema_editor.connection.vendor == "postgresql"
    # The head's trigger lets it move only forward; the migration owns the table and may step around it.
    if postgres:
        schema_editor.execute("ALTER TABLE portal_auditchainhead DISABLE TRIGGER forward_only")
    head.mac = chain_head_mac(seq=head.seq, hash=head.hash)
    head.save(update_fields=["mac"])
    if postgres:
        schema_editor.execute("ALTER TABLE portal_auditchainhead ENABLE TRIGGER forward_only")


def refuse_truncate(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)
    schema_editor.execute(
        "CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON portal_auditanchor "
        "FOR EACH ROW EXECUTE FUNCTION portal_append_only()"
    )
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = 'append_only'")
        tables = sorted({row[0] for row in cursor.fetchall()} | {"portal_auditchainhead"})
    for table in tables:
        schema_editor.execute(
            f"CREATE TRIGGER no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION portal_refuse_truncate()"
        )


def allow_truncate(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = 'no_truncate'")
        tables = sorted(row[0] for row in cursor.fetchall())
    for table in tables:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS no_truncate ON {table}")
    schema_editor.execute("DROP TRIGGER IF EXISTS append_only ON portal_auditanchor")
    schema_editor.execute("DROP FUNCTION IF EXISTS portal_refuse_truncate()")


class Migration(migrations.Migration):

    dependencies = [
        ("portal", "0008_policy_versions"),
        # The latest migrations that give a table the append_only trigger.
        ("accounts", "0008_rest_of_the_order"),
        ("access_requests", "0006_rest_of_the_order"),
        ("audits", "0003_rest_of_the_order"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditAnchor",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField(unique=True)),
                ("seq", models.PositiveBigIntegerField(verbose_name="sequence number")),
                ("hash", models.CharField(max_length=64)),
                ("mac", models.CharField(editable=False, max_length=64,
                                         verbose_name="HMAC of the day, the number and the hash")),
            ],
            options={"ordering": ["-day"]},
        ),
        migrations.AddField(
            model_name="auditchainhead",
            name="mac",
            field=models.CharField(blank=True, editable=False, max_length=64,
                                   verbose_name="HMAC of the number and the hash"),
        ),
        migrations.RunPython(sign_the_head, migrations.RunPython.noop),
        migrations.RunPython(refuse_truncate, allow_truncate),
    ]
