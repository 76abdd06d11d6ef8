"""The audit trail nobody can quietly change (S3.10): a hash chain that `verify_audit_log` recomputes,
a chain head signed with the chain's key, daily anchors kept outside the database, audit and history
rows the ORM refuses to change, and on PostgreSQL triggers that refuse a plain UPDATE, DELETE or
TRUNCATE as well.

Tampering goes around every guard on purpose (on PostgreSQL with `session_replication_role =
replica`, which switches the triggers off for the session): the point is that the chain notices.
"""

import hashlib
import hmac
import importlib
import os
import subprocess
import sys
import threading
from contextlib import contextmanager
from io import StringIO
from datetime import date, timedelta
from datetime import timezone as dt_timezone
from pathlib import Path

import pytest
from conftest import provisioned, rest_of_the_order_records
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import RequestFactory
from django.utils import timezone
from services import require_postgres

from accounts.models import Grant
from accounts.services import authorized_requester_add, grant_set_status
from audits.models import ValidationItem
from audits.services import open_due_validations
from portal.audit import ClientAddressMiddleware, audit_anchors_publish, audit_record, chain_hash, chain_head_mac
from portal.errors import NotAllowed
from portal.history import AppendOnlyHistory
from portal.models import AUDIT_CHAIN_GENESIS, AppendOnlyQuerySet, AuditAnchor, AuditChainHead, AuditEvent
from access_requests.services import status_change_report

TRIGGERS = importlib.import_module("portal.migrations.0007_append_only_triggers")
HISTORICAL_MODELS = [model for model in apps.get_models() if model.__name__.startswith("Historical")]
UNSIGNED_HEAD = "chain head is not signed with the key: it was written or changed outside the portal"


def _verify(**options) -> tuple[int, str, str]:
    """Run `verify_audit_log`: (exit status, what it printed, what it printed as problems)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit_log", stdout=out, stderr=err, **options)
    except CommandError as error:
        return error.returncode, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def _record(count: int, **kwargs) -> list[AuditEvent]:
    return [audit_record(actor=None, action="test.event", target=f"thing {n}", **kwargs) for n in range(count)]


@contextmanager
def _guards_off():
    """Write to the tables as someone with direct database access would."""
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute("SET LOCAL session_replication_role = replica")
        try:
            yield cursor
        finally:
            if postgres:
                cursor.execute("SET LOCAL session_replication_role = origin")


def _last_seq() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()


# --- The chain ------------------------------------------------------------------------------------

def test_each_entry_carries_the_next_number_and_the_hash_of_the_one_before(db):
    """S3.10"""
    first, second, third = _record(3)

    assert (second.seq, third.seq) == (first.seq + 1, first.seq + 2)
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    stored = AuditEvent.objects.get(pk=second.pk)
    assert stored.hash == chain_hash(
        seq=stored.seq, prev_hash=stored.prev_hash, at=stored.at, actor_id=stored.actor_id, action=stored.action,
        outcome=stored.outcome, target=stored.target, ip_address=stored.ip_address, detail=stored.detail,
    )
    head = AuditChainHead.objects.get()
    assert (head.seq, head.hash) == (third.seq, third.hash)


def test_the_first_entry_starts_the_chain(db):
    """S3.10"""
    [event] = _record(1)

    assert event.seq == 1 and event.prev_hash == AUDIT_CHAIN_GENESIS


def test_an_entry_is_stamped_in_utc_before_its_hash_is_computed(db):
    """S3.10: the stored time is the hashed time, to the microsecond."""
    [event] = _record(1)
    stored = AuditEvent.objects.get(pk=event.pk)

    assert stored.at == event.at and stored.at.utcoffset() == timedelta(0)
    moved = chain_hash(seq=stored.seq, prev_hash=stored.prev_hash, at=stored.at + timedelta(microseconds=1),
                       actor_id=stored.actor_id, action=stored.action, outcome=stored.outcome,
                       target=stored.target, ip_address=stored.ip_address, detail=stored.detail)
    assert moved != stored.hash


def test_the_hash_depends_on_the_key(db, settings):
    """S3.10: without the key nobody can compute a hash that verifies."""
    [event] = _record(1)
    settings.AUDIT_CHAIN_KEY = "another key"

    status, _, problems = _verify()

    assert status == 1 and f"hash mismatch at seq {event.seq}" in problems


def test_verify_audit_log_says_the_chain_is_intact(city):
    """S3.10"""
    total = AuditEvent.objects.count()
    assert total > 5, "the city's set-up writes audit entries"

    status, out, problems = _verify()

    assert status == 0 and problems == ""
    assert out.strip() == f"{total} entries, chain intact"


def test_verify_reads_the_log_in_chunks_and_finds_a_gap_on_a_chunk_boundary(db):
    """S3.10: a small chunk size walks the same chain as a large one."""
    events = _record(10)
    assert _verify(chunk_size=3)[0] == 0
    with _guards_off() as cursor:
        cursor.execute("DELETE FROM portal_auditevent WHERE seq = %s", [events[3].seq])

    status, _, problems = _verify(chunk_size=3)

    assert status == 1 and problems.splitlines() == [f"seq {events[3].seq} missing"]


def test_an_empty_log_is_intact(db):
    assert _verify() == (0, "0 entries, chain intact\n", "")


def test_a_refusal_after_a_rollback_continues_the_chain(city):
    """S3.3 S3.10: the refused service's transaction is rolled back, then its attempt is chained."""
    with pytest.raises(NotAllowed):
        authorized_requester_add(department=city.police, person=city.analyst, by=city.head)

    denied = AuditEvent.objects.get(action="requester.add", outcome=AuditEvent.Outcome.DENIED)
    assert denied.seq == _last_seq()
    assert _verify()[0] == 0


def test_entries_of_a_rolled_back_transaction_leave_no_hole(db):
    """S3.10: the chain head is rolled back with the entries."""
    _record(2)
    with pytest.raises(RuntimeError), transaction.atomic():
        _record(3)
        raise RuntimeError("the change fails")
    [after] = _record(1)

    assert after.seq == 3
    assert _verify() == (0, "3 entries, chain intact\n", "")


def test_where_a_request_comes_from_is_recorded_in_a_canonical_form(db):
    """S3.10: the address read back from the database gives the same hash on SQLite and PostgreSQL."""
    addresses = {"10.1.2.3": "10.1.2.3", "2001:0DB8:0000:0000::0001": "2001:db8::1",
                 "::ffff:10.0.0.1": "::ffff:10.0.0.1", "not an address": None, "": None}
    recorded = {}
    for sent in addresses:
        request = RequestFactory().get("/", REMOTE_ADDR=sent)
        ClientAddressMiddleware(lambda request: recorded.setdefault(
            sent, audit_record(actor=None, action="test.event", target=sent)))(request)

    for sent, expected in addresses.items():
        assert AuditEvent.objects.get(pk=recorded[sent].pk).ip_address == expected
    assert _verify()[0] == 0


def test_hostile_text_is_recorded_and_still_verifies(db):
    """S3.10: a NUL byte (which PostgreSQL refuses in text) or markup in a target cannot stop the record."""
    event = audit_record(actor=None, action="sign_in", target="evil\x00<script>alert(1)</script>",
                         detail="é ✓ \u202e\r\n\t", outcome=AuditEvent.Outcome.DENIED)

    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.target == "evil\ufffd<script>alert(1)</script>" and stored.detail == "é ✓ \u202e\r\n\t"
    assert _verify()[0] == 0


def test_the_data_migration_chains_entries_written_before_the_chain(transactional_db):
    """S3.10: entries already in the log when the chain arrived are chained in the order written."""
    executor = MigrationExecutor(connection)
    before = [("portal", "0003_outgoing_email")]
    latest = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(before)
        old_apps = executor.loader.project_state(before).apps
        OldAuditEvent = old_apps.get_model("portal", "AuditEvent")
        for n in range(5):
            OldAuditEvent.objects.create(action="old.event", target=f"old {n}", detail="written before the chain")
        ids = list(OldAuditEvent.objects.order_by("id").values_list("id", flat=True))
        executor = MigrationExecutor(connection)
        executor.migrate(latest)
    finally:
        MigrationExecutor(connection).migrate(latest)

    assert list(AuditEvent.objects.order_by("seq").values_list("id", flat=True)) == ids
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3, 4, 5]
    assert _verify() == (0, "5 entries, chain intact\n", "")
    assert audit_record(actor=None, action="test.event").seq == 6


# --- Tampering ------------------------------------------------------------------------------------

def test_an_edited_entry_is_named_by_its_number(db):
    """S3.10"""
    events = _record(5)
    with _guards_off() as cursor:
        cursor.execute("UPDATE portal_auditevent SET detail = 'nothing happened' WHERE seq = %s", [events[2].seq])

    status, out, problems = _verify()

    assert status == 1
    assert problems.splitlines() == [f"hash mismatch at seq {events[2].seq}: the entry was changed after it was written"]
    assert "chain intact" not in out


def test_an_edited_entry_with_a_relinked_successor_is_still_found(db):
    """S3.10: changing an entry's hash to match the edit breaks the link to the next one."""
    events = _record(4)
    with _guards_off() as cursor:
        cursor.execute("UPDATE portal_auditevent SET outcome = 'success', hash = %s WHERE seq = %s",
                       ["f" * 64, events[1].seq])

    problems = _verify()[2].splitlines()

    assert f"hash mismatch at seq {events[1].seq}: the entry was changed after it was written" in problems
    assert (f"broken link at seq {events[2].seq}: its previous hash is not the hash of seq {events[1].seq}"
            in problems)


def test_a_deleted_entry_in_the_middle_is_a_gap(db):
    """S3.10"""
    events = _record(6)
    with _guards_off() as cursor:
        cursor.execute("DELETE FROM portal_auditevent WHERE seq IN (%s, %s, %s)",
                       [events[1].seq, events[2].seq, events[4].seq])

    status, _, problems = _verify()

    assert status == 1
    assert problems.splitlines() == [
        f"seq {events[1].seq} to {events[2].seq} missing (2 entries)",
        f"seq {events[4].seq} missing",
    ]


def test_a_deleted_tail_is_found_through_the_chain_head(db):
    """S3.10: the last entries leave no gap behind them, but the head still counts them."""
    events = _record(5)
    with _guards_off() as cursor:
        cursor.execute("DELETE FROM portal_auditevent WHERE seq >= %s", [events[3].seq])

    status, _, problems = _verify()

    assert status == 1
    assert problems.splitlines() == [
        f"deleted tail: chain head says {events[4].seq} but last entry is {events[2].seq}"]


def test_a_forged_entry_is_found(db):
    """S3.10: someone without the key cannot write an entry that verifies."""
    events = _record(3)
    last = events[-1]
    forged_at = last.at + timedelta(seconds=1)
    with _guards_off() as cursor:
        cursor.execute(
            "INSERT INTO portal_auditevent (seq, at, action, outcome, target, detail, prev_hash, hash) "
            "VALUES (%s, %s, 'access_request.approve', 'success', 'AR-FORGED', '', %s, %s)",
            [last.seq + 1, forged_at, last.hash, "a" * 64],
        )

    status, _, problems = _verify()

    assert status == 1
    assert problems.splitlines() == [
        f"hash mismatch at seq {last.seq + 1}: the entry was changed after it was written",
        f"chain head says {last.seq} but last entry is {last.seq + 1}: entries added past the head",
    ]


def test_an_entry_moved_out_of_the_chain_breaks_the_link(db):
    """S3.10"""
    events = _record(3)
    with _guards_off() as cursor:
        cursor.execute("UPDATE portal_auditevent SET prev_hash = %s WHERE seq = %s", ["0" * 64, events[2].seq])

    problems = _verify()[2].splitlines()

    assert f"broken link at seq {events[2].seq}: its previous hash is not the hash of seq {events[1].seq}" in problems
    assert f"hash mismatch at seq {events[2].seq}: the entry was changed after it was written" in problems


def test_the_command_exits_with_status_1_on_a_broken_chain(db):
    """S3.10: the exit status is what a scheduled check or CI looks at."""
    events = _record(2)
    with _guards_off() as cursor:
        cursor.execute("UPDATE portal_auditevent SET target = 'x' WHERE seq = %s", [events[0].seq])

    with pytest.raises(CommandError) as refused:
        call_command("verify_audit_log", stderr=StringIO())

    assert refused.value.returncode == 1
    assert "2 entries, chain broken: 1 problem" in str(refused.value)


# --- The ORM refuses changes ----------------------------------------------------------------------

def test_audit_events_are_written_only_through_audit_record(db):
    """S3.10: a row written around the chain would have no number and no hash."""
    with pytest.raises(PermissionError):
        AuditEvent.objects.create(action="test.event")
    with pytest.raises(PermissionError):
        AuditEvent.objects.bulk_create([AuditEvent(action="test.event")])
    assert not AuditEvent.objects.exists()


def test_audit_events_refuse_every_change_through_the_orm(db):
    """S3.10"""
    event, _ = _record(2)
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(detail="rewritten")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    event.detail = "rewritten"
    with pytest.raises(PermissionError):
        AuditEvent.objects.bulk_update([event], ["detail"])

    assert AuditEvent.objects.get(pk=event.pk).detail == ""
    assert _verify()[0] == 0


def _world_with_history(city):
    """Every historical table gets rows: grants and requests with their uses, a status change, a
    validation, and the records of Sections 3.6, 3.7, 3.11 and 5 with their many-to-many rows
    (written directly: this test is about the tables, not the workflows)."""
    grant = provisioned(city, person=city.officer).grant
    status_change_report(person=city.analyst, kind="on_leave", effective_date=date.today(), note="", by=city.head)
    open_due_validations()
    rest_of_the_order_records(city, grant)
    _kpi_board_and_oversight_records(city)


def _kpi_board_and_oversight_records(city):
    """A KPI with a figure and an impact statement, a report handed to the Board, an oversight
    appointment: the history tables of kpis, reports and security."""
    import hashlib

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from accounts.models import User
    from conftest import make_pdf
    from kpis.models import Kpi
    from kpis.services import figure_record, impact_state, kpi_decide, kpi_propose
    from portal.models import IntendedUse
    from reports.models import PublishedReport
    from reports.services import report_hand_to_board
    from security.oversight import oversight_propose

    use = IntendedUse.objects.get(code="public-safety")
    kpi = kpi_decide(kpi=kpi_propose(department=city.police, system=city.vms, intended_use=use, name="Cases closed",
                                     measure="Case files.", unit="cases", direction="higher", target="10",
                                     by=city.head), approve=True, reason="Clear.", by=city.designee)
    year = date.today().year
    figure_record(kpi=Kpi.objects.get(pk=kpi.pk), year=year, value="12", by=city.head)
    impact_state(department=city.police, system=city.vms, intended_use=use, year=year, verdict="positive",
                 explanation="Above target.", by=city.head)
    pdf = make_pdf()
    report = PublishedReport(kind=PublishedReport.Kind.DEPARTMENT_ANNUAL, department=city.police,
                             period_start=date(2001, 1, 1), period_end=date(2001, 12, 31), title="Police 2001",
                             published_by=city.head, published_at=timezone.now(),
                             pdf_sha256=hashlib.sha256(pdf).hexdigest())
    report.pdf.save("report.pdf", ContentFile(pdf), save=False)
    report.save()
    report_hand_to_board(report=report, requested_on=date.today(), request_reference="Letter", by=city.designee)
    oversight_propose(person=User.objects.create_user("ivy@audit.city.example", full_name="Ivy Inspector"),
                      body="Internal Auditor", purpose="Audit.", by=city.itsa)


def test_every_historical_model_is_append_only(db):
    """S3.10: a new `HistoricalRecords(` without the append-only base fails here."""
    assert len(HISTORICAL_MODELS) >= 13
    for model in HISTORICAL_MODELS:
        assert issubclass(model, AppendOnlyHistory), model
        assert isinstance(model.objects.all(), AppendOnlyQuerySet), model


@pytest.mark.parametrize("model", HISTORICAL_MODELS, ids=lambda model: model.__name__)
def test_history_rows_refuse_every_change_through_the_orm(city, model):
    """S3.10"""
    _world_with_history(city)
    row = model.objects.order_by("pk").first()
    assert row is not None, f"the world of this test writes no {model.__name__} row"
    count = model.objects.count()

    for change in (
        row.save,
        row.delete,
        lambda: model.objects.filter(pk=row.pk).update(**{model._meta.pk.attname: row.pk}),
        lambda: model.objects.filter(pk=row.pk).delete(),
        lambda: model.objects.bulk_update([row], [model._meta.pk.name]),
    ):
        with pytest.raises(PermissionError):
            change()
    assert model.objects.count() == count


def test_history_through_the_model_manager_refuses_changes_too(city):
    """S3.10: `grant.history` is the way most code reaches history rows."""
    grant = provisioned(city, person=city.officer).grant
    with pytest.raises(PermissionError):
        grant.history.all().update(history_change_reason="rewritten")
    with pytest.raises(PermissionError):
        grant.history.all().delete()
    with pytest.raises(PermissionError):
        Grant.history.bulk_update(list(grant.history.all()), ["history_change_reason"])
    old = grant.history.earliest("history_date")
    old.history_change_reason = "rewritten"
    with pytest.raises(PermissionError):
        old.save()
    assert not grant.history.filter(history_change_reason="rewritten").exists()


def test_history_still_records_changes_and_bulk_creations(city):
    """S3.10: append-only does not stop history from being written."""
    grant = provisioned(city, person=city.officer).grant
    before = grant.history.count()

    grant_set_status(grant=grant, status=Grant.Status.SUSPENDED, by=city.itsa)
    [validation] = open_due_validations()  # its items are written with bulk_create_with_history

    assert grant.history.count() == before + 1
    assert grant.history.latest("history_date").status == Grant.Status.SUSPENDED
    items = ValidationItem.objects.filter(validation=validation)
    assert items.exists()
    assert all(item.history.filter(history_type="+").exists() for item in items)
    uses_history = apps.get_model("accounts", "HistoricalGrant_permissible_uses")
    assert uses_history.objects.filter(history=grant.history.latest("history_date")).exists(), "many-to-many too"


# --- PostgreSQL triggers --------------------------------------------------------------------------

def _tables():
    return [AuditEvent._meta.db_table] + [model._meta.db_table for model in HISTORICAL_MODELS]


def test_every_history_table_and_the_audit_table_have_the_trigger(db):
    """S3.10: a new historical table without the trigger fails here (see migration 0007 of portal)."""
    require_postgres()
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = 'append_only'")
        guarded = {row[0] for row in cursor.fetchall()}

    assert set(_tables()) - guarded == set(), "add the append_only trigger to these tables in a migration"


def test_postgres_refuses_a_plain_update_or_delete_of_every_history_table_and_the_audit_table(city):
    """S3.10: not through the ORM, through SQL."""
    require_postgres()
    _world_with_history(city)
    tried = set()
    for table in _tables():
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            if not cursor.fetchone()[0]:
                continue
            for sql in (f'UPDATE "{table}" SET {_some_column(table)} = {_some_column(table)}', f'DELETE FROM "{table}"'):
                with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                    cursor.execute(sql)
        tried.add(table)

    assert set(TRIGGERS.APPEND_ONLY_TABLES) <= tried, "every guarded table had rows to refuse"


def _some_column(table: str) -> str:
    model = next(m for m in [AuditEvent, *HISTORICAL_MODELS] if m._meta.db_table == table)
    return connection.ops.quote_name(model._meta.pk.column)


def test_postgres_lets_the_chain_head_only_move_forward(db):
    """S3.10: moving the head back would hide a cut tail."""
    require_postgres()
    _record(3)
    with connection.cursor() as cursor:
        for sql in ("UPDATE portal_auditchainhead SET seq = seq - 1", "UPDATE portal_auditchainhead SET seq = seq + 5",
                    "DELETE FROM portal_auditchainhead"):
            with pytest.raises(DatabaseError, match="chain head"), transaction.atomic():
                cursor.execute(sql)
    assert AuditChainHead.objects.get().seq == 3


def test_postgres_refuses_truncate_of_every_append_only_table_and_of_the_chain_head(db):
    """S3.10: TRUNCATE empties a table without any row trigger seeing it: it would cut the trail."""
    require_postgres()
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname, tgrelid::regclass::text FROM pg_trigger "
                       "WHERE tgname IN ('append_only', 'no_truncate')")
        guarded = {"append_only": set(), "no_truncate": set()}
        for name, table in cursor.fetchall():
            guarded[name].add(table)

    assert {*_tables(), AuditAnchor._meta.db_table} <= guarded["append_only"]
    missing = (guarded["append_only"] | {AuditChainHead._meta.db_table}) - guarded["no_truncate"]
    assert missing == set(), "add the no_truncate trigger to these tables in a migration (see portal 0009)"
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE waits for no deferred check
        for table in sorted(guarded["no_truncate"]):
            with pytest.raises(DatabaseError, match=r"TRUNCATE on \w+ refused"), transaction.atomic():
                cursor.execute(f'TRUNCATE "{table}" CASCADE')


# --- The chain head is signed ---------------------------------------------------------------------

def test_the_chain_head_is_signed_with_the_key_of_the_entries(db, settings):
    """S3.10"""
    _record(2)
    head = AuditChainHead.objects.get()

    assert head.mac == chain_head_mac(seq=head.seq, hash=head.hash)
    settings.AUDIT_CHAIN_KEY = "another key"
    assert UNSIGNED_HEAD in _verify()[2].splitlines()


def test_a_head_written_without_the_key_stays_unsigned_after_the_next_entry(db):
    """S3.10: signing over a head it did not sign, the portal would hide the forgery at its next append."""
    events = _record(3)
    with _guards_off() as cursor:
        cursor.execute("UPDATE portal_auditchainhead SET mac = %s", ["b" * 64])
    [after] = _record(1)

    head = AuditChainHead.objects.get()
    assert (head.seq, head.hash, head.mac) == (after.seq, after.hash, "")
    assert after.prev_hash == events[-1].hash
    assert _verify()[2].splitlines() == [UNSIGNED_HEAD]


def test_a_head_rebuilt_after_it_went_missing_is_not_signed(db):
    """S3.10: a head rebuilt from the entries that are left would vouch for a cut tail."""
    _record(3)
    with _guards_off() as cursor:
        cursor.execute("DELETE FROM portal_auditchainhead")
    _record(1)

    assert AuditChainHead.objects.get().seq == 4
    assert _verify()[2].splitlines() == [UNSIGNED_HEAD]


# --- Anchors --------------------------------------------------------------------------------------

def _tonight() -> list[AuditAnchor]:
    """The nightly anchoring as it will run tomorrow: today's last entry becomes today's anchor."""
    return audit_anchors_publish(to=[], today=timezone.localdate() + timedelta(days=1))


def test_verify_checks_a_published_anchor_and_the_chain_past_it(db):
    """S3.10"""
    events = _record(5)
    anchor = f"{events[2].seq}:{events[2].hash.upper()}"

    assert _verify(anchor=[anchor]) == (0, "5 entries, chain intact; 1 anchor matched\n", "")
    with _guards_off() as cursor:
        cursor.execute("UPDATE portal_auditevent SET detail = 'rewritten' WHERE seq = %s", [events[3].seq])
    status, _, problems = _verify(anchor=[anchor])
    assert status == 1
    assert problems.splitlines() == [
        f"hash mismatch at seq {events[3].seq}: the entry was changed after it was written"]


def test_anchors_are_repeatable_and_seq_0_is_the_start_of_the_chain(db):
    """S3.10: an anchor published while the trail was still empty names seq 0."""
    events = _record(3)
    anchors = ["--anchor", f"0:{AUDIT_CHAIN_GENESIS}", "--anchor", f"{events[0].seq}:{events[0].hash}",
               "--anchor", f"{events[2].seq}:{events[2].hash}"]
    out = StringIO()

    call_command("verify_audit_log", *anchors, stdout=out, stderr=StringIO())

    assert out.getvalue() == "3 entries, chain intact; 3 anchors matched\n"


def test_an_anchor_whose_entry_has_another_hash_is_found(db):
    """S3.10: the entry the anchor names was rewritten, with a new chain from there on."""
    events = _record(3)

    status, _, problems = _verify(anchor=[f"{events[1].seq}:{'c' * 64}"])

    assert status == 1
    assert problems.splitlines() == [
        f"anchor {events[1].seq}:{'c' * 12}…: seq {events[1].seq} has another hash: "
        "the trail was rewritten at or before it"]


def test_an_anchor_past_the_last_entry_is_a_cut_tail(db):
    """S3.10: the head and the last entry agree, but an anchor says the trail once went further."""
    events = _record(3)

    status, _, problems = _verify(anchor=[f"7:{'d' * 64}"])

    assert status == 1
    assert problems.splitlines() == [
        f"cut tail: anchor 7:{'d' * 12}… names seq 7 but the last entry is {events[-1].seq}"]


def test_an_anchor_in_a_gap_is_named(db):
    """S3.10"""
    events = _record(4)
    with _guards_off() as cursor:
        cursor.execute("DELETE FROM portal_auditevent WHERE seq = %s", [events[1].seq])

    problems = _verify(anchor=[f"{events[1].seq}:{events[1].hash}"])[2].splitlines()

    assert problems == [f"seq {events[1].seq} missing", f"anchor {events[1].seq}:{events[1].hash[:12]}…: "
                                                      f"seq {events[1].seq} is missing"]


@pytest.mark.parametrize("text", ["", "12", "12:", f":{'a' * 64}", f"x:{'a' * 64}", f"12:{'a' * 63}",
                                  f"12:{'g' * 64}", f"-3:{'a' * 64}", f"12:{'a' * 64}:9", f"12 {'a' * 64}"])
def test_an_anchor_that_is_not_seq_colon_hash_is_refused_with_a_clear_error(db, text):
    """S3.10: a mistyped anchor is a usage error (status 2), not a broken chain and not a traceback."""
    with pytest.raises(CommandError, match="is not SEQ:HASH: give an entry's number, a colon and its "
                                           "64-character hexadecimal hash") as refused:
        call_command("verify_audit_log", f"--anchor={text}", stdout=StringIO(), stderr=StringIO())

    assert refused.value.returncode == 2


def test_a_bad_anchor_on_the_command_line_says_so_in_one_line():
    """S3.10"""
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "manage.py", "verify_audit_log", "--anchor", "12:not-a-hash"], cwd=root,
                            capture_output=True, text=True, timeout=60, env=os.environ)

    assert result.returncode == 2
    assert result.stderr.startswith("CommandError: --anchor '12:not-a-hash' is not SEQ:HASH")
    assert "Traceback" not in result.stderr


def test_the_kept_anchors_are_checked_against_the_chain(db):
    """S3.10: a tail cut past the last night's anchor is found even with a head signed for the cut."""
    events = _record(4)
    [anchor] = _tonight()
    assert _verify() == (0, "4 entries, chain intact; 1 anchor matched\n", "")
    with _guards_off() as cursor:
        cursor.execute("DELETE FROM portal_auditevent WHERE seq > %s", [events[1].seq])
        cursor.execute("UPDATE portal_auditchainhead SET seq = %s, hash = %s, mac = %s",
                       [events[1].seq, events[1].hash, chain_head_mac(seq=events[1].seq, hash=events[1].hash)])

    status, _, problems = _verify()

    assert status == 1
    assert problems.splitlines() == [
        f"cut tail: the anchor of {anchor.day} names seq {events[-1].seq} but the last entry is {events[1].seq}"]


def test_an_anchor_changed_in_the_database_is_not_trusted(db):
    """S3.10: moving a kept anchor back to match a cut trail breaks its MAC."""
    events = _record(3)
    [anchor] = _tonight()
    with _guards_off() as cursor:
        cursor.execute("UPDATE portal_auditanchor SET seq = %s, hash = %s", [events[0].seq, events[0].hash])

    assert _verify()[2].splitlines() == [
        f"the anchor of {anchor.day} is not signed with the key: it was written or changed outside the portal"]


# --- The cut: copy up to N, TRUNCATE, put the copies back, write a head for N ---------------------

def _cut_at(n: AuditEvent, *, head: tuple[int, str, str]) -> None:
    """What someone with the database's credentials does, going around the triggers: keep the entries
    up to `n`, empty the table, put them back, and replace the chain head with `head`."""
    with _guards_off() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE waits for no deferred check
        cursor.execute("DROP TABLE IF EXISTS kept")
        cursor.execute("CREATE TEMPORARY TABLE kept AS SELECT * FROM portal_auditevent WHERE seq <= %s", [n.seq])
        cursor.execute("TRUNCATE portal_auditevent")
        cursor.execute("INSERT INTO portal_auditevent SELECT * FROM kept")
        cursor.execute("TRUNCATE portal_auditchainhead")
        cursor.execute("INSERT INTO portal_auditchainhead (id, seq, hash, mac) VALUES (1, %s, %s, %s)", head)


@pytest.mark.postgres
def test_a_trail_cut_at_n_and_put_back_with_a_head_for_n_is_found(db):
    """S3.10: TRUNCATE is refused; around the trigger, a head written without the key fails
    verification; with the head replayed from an old backup and the kept anchors emptied too, the
    anchor published before the cut still finds it."""
    require_postgres()
    events = _record(5)
    n = events[-1]
    head_at_n = AuditChainHead.objects.values_list("seq", "hash", "mac").get()  # in a backup, say
    events += _record(3)
    [anchor] = _tonight()
    published = f"{anchor.seq}:{anchor.hash}"
    events += _record(2)
    assert anchor.seq == events[7].seq > n.seq
    assert _verify(anchor=[published]) == (0, "10 entries, chain intact; 2 anchors matched\n", "")

    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE waits for no deferred check
        for table in ("portal_auditevent", "portal_auditchainhead", "portal_auditanchor"):
            with pytest.raises(DatabaseError, match=f"TRUNCATE on {table} refused"), transaction.atomic():
                cursor.execute(f"TRUNCATE {table}")
    assert AuditEvent.objects.count() == 10

    guessed = hmac.new(b"a guess", f"audit-chain-head:{n.seq}:{n.hash}".encode(), hashlib.sha256).hexdigest()
    _cut_at(n, head=(n.seq, n.hash, guessed))

    status, _, problems = _verify()
    assert status == 1
    assert problems.splitlines() == [
        f"cut tail: the anchor of {anchor.day} names seq {anchor.seq} but the last entry is {n.seq}", UNSIGNED_HEAD]

    _cut_at(n, head=head_at_n)
    with _guards_off() as cursor:
        cursor.execute("TRUNCATE portal_auditanchor")
    assert _verify() == (0, "5 entries, chain intact\n", ""), "the database alone can no longer tell"

    status, _, problems = _verify(anchor=[published])
    assert status == 1
    assert problems.splitlines() == [
        f"cut tail: anchor {anchor.seq}:{anchor.hash[:12]}… names seq {anchor.seq} but the last entry is {n.seq}"]


# --- Concurrency ----------------------------------------------------------------------------------

@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_appends_from_many_connections_at_once_give_one_contiguous_intact_chain():
    """S3.10: ten writers, each in its own connection and transaction, some of them rolled back."""
    require_postgres()
    writers, per_writer = 10, 8
    barrier = threading.Barrier(writers)
    errors = []

    def write(index):
        try:
            barrier.wait(timeout=10)
            for n in range(per_writer):
                if n % 4 == 3:
                    # A change that fails after recording: its entry and the head go back together.
                    try:
                        with transaction.atomic():
                            audit_record(actor=None, action="test.rolled_back", target=f"writer {index}")
                            raise RuntimeError
                    except RuntimeError:
                        pass
                else:
                    with transaction.atomic():
                        audit_record(actor=None, action="test.concurrent", target=f"writer {index} #{n}")
        except Exception as error:  # kept for the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors and not any(thread.is_alive() for thread in threads)
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    expected = writers * (per_writer - per_writer // 4)
    assert seqs == list(range(1, expected + 1))
    assert not AuditEvent.objects.filter(action="test.rolled_back").exists()
    times = list(AuditEvent.objects.order_by("seq").values_list("at", flat=True))
    assert times == sorted(times), "numbers follow the order of writing"
    assert _verify() == (0, f"{expected} entries, chain intact\n", "")


# --- Retention ------------------------------------------------------------------------------------

def test_entries_are_kept_at_least_a_year_by_default(settings):
    """S3.10"""
    assert settings.AUDIT_RETENTION_DAYS >= 365


def test_a_retention_shorter_than_a_year_stops_the_portal_from_starting():
    """S3.10"""
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", "import portal.settings"], cwd=root, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "AUDIT_RETENTION_DAYS": "100", "DJANGO_SECRET_KEY": "x" * 50}, timeout=60,
    )

    assert result.returncode != 0
    assert "AUDIT_RETENTION_DAYS must be at least 365" in result.stderr


def test_the_chain_key_defaults_to_one_derived_from_the_secret_key():
    """S3.10: set AUDIT_CHAIN_KEY to keep the chain verifiable across a secret key rotation."""
    root = Path(__file__).resolve().parents[2]
    script = "import portal.settings as s; print(s.AUDIT_CHAIN_KEY != s.SECRET_KEY and len(s.AUDIT_CHAIN_KEY))"
    derived = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=60,
                             env={"PATH": "/usr/bin:/bin", "DJANGO_SECRET_KEY": "x" * 50})
    explicit = subprocess.run(
        [sys.executable, "-c", "import portal.settings as s; print(s.AUDIT_CHAIN_KEY)"], cwd=root,
        capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SECRET_KEY": "x" * 50, "AUDIT_CHAIN_KEY": "kept-elsewhere"})

    assert derived.stdout.strip() == "64"
    assert explicit.stdout.strip() == "kept-elsewhere"


def test_utc_is_the_zone_of_the_hashed_time():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    local = datetime(2025, 3, 9, 23, 30, tzinfo=ZoneInfo("America/Chicago"))
    same = local.astimezone(dt_timezone.utc)
    arguments = dict(seq=1, prev_hash=AUDIT_CHAIN_GENESIS, actor_id=None, action="a", outcome="success", target="",
                     ip_address=None, detail="")

    assert chain_hash(at=local, **arguments) == chain_hash(at=same, **arguments)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_service_takes_the_chain_lock_before_any_row_lock_so_audited_changes_cannot_deadlock():
    """While another transaction holds the audit chain, a service waiting to write has not yet locked
    the grant it is about to change: every audited transaction locks in the same order."""
    require_postgres()
    from conftest import build_city
    from django.db import connections

    from accounts.services import grant_set_status
    from portal.audit import lock_audit_chain

    city = build_city()
    grant = provisioned(city).grant
    holding, release, done = threading.Event(), threading.Event(), threading.Event()
    errors = []

    def hold_the_chain():
        try:
            with transaction.atomic():
                lock_audit_chain()
                holding.set()
                release.wait(timeout=20)
        finally:
            connection.close()

    def suspend():
        try:
            from portal.audit import service_transaction

            service_transaction(grant_set_status)(grant=grant, status="suspended", by=city.itsa)
        except Exception as error:  # kept for the assertion below
            errors.append(error)
        finally:
            done.set()
            connection.close()

    holder = threading.Thread(target=hold_the_chain)
    holder.start()
    assert holding.wait(timeout=10)
    worker = threading.Thread(target=suspend)
    worker.start()
    assert not done.wait(timeout=1), "the service waits for the chain"
    # The grant's row is free: the waiting service has taken no row lock yet.
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(f"SELECT id FROM {Grant._meta.db_table} WHERE id = %s FOR UPDATE NOWAIT", [grant.pk])
            cursor.execute("ROLLBACK")
    finally:
        other.close()
    release.set()
    holder.join(timeout=20)
    worker.join(timeout=20)
    assert not errors
    grant.refresh_from_db()
    assert grant.status == "suspended"
