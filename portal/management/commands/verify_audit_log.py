"""Recompute the audit chain and say whether anyone changed it.

Exit status 0 and one line ("N entries, chain intact") when every entry is there, in order, with
its hash; otherwise every problem on its own line and exit status 1. Reads the entries in chunks
of ordered numbers, so the memory it needs does not grow with the log.
"""

from contextlib import contextmanager

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from portal.audit import chain_hash
from portal.models import AUDIT_CHAIN_GENESIS, AuditChainHead, AuditEvent

FIELDS = ("seq", "prev_hash", "hash", "at", "actor_id", "action", "outcome", "target", "ip_address", "detail")


def _gap(first: int, last: int) -> str:
    if first == last:
        return f"seq {first} missing"
    return f"seq {first} to {last} missing ({last - first + 1} entries)"


def verify_audit_chain(*, report, chunk_size: int = 2000) -> int:
    """Call `report` with each problem of the chain, in order; return the number of entries."""
    count, expected, prev_hash = 0, 1, AUDIT_CHAIN_GENESIS
    last_seq = 0
    while True:
        rows = AuditEvent.objects.filter(seq__gt=last_seq).order_by("seq").values_list(*FIELDS)[:chunk_size]
        rows = list(rows)
        if not rows:
            break
        for seq, stored_prev, stored_hash, at, actor_id, action, outcome, target, ip_address, detail in rows:
            count += 1
            if seq > expected:
                report(_gap(expected, seq - 1))
            elif stored_prev != prev_hash:
                # After a gap the link is broken by the gap itself: that is said once, above.
                before = f"the hash of seq {seq - 1}" if seq > 1 else "the start of the chain"
                report(f"broken link at seq {seq}: its previous hash is not {before}")
            computed = chain_hash(seq=seq, prev_hash=stored_prev, at=at, actor_id=actor_id, action=action,
                                  outcome=outcome, target=target, ip_address=ip_address, detail=detail)
            if computed != stored_hash:
                report(f"hash mismatch at seq {seq}: the entry was changed after it was written")
            expected, prev_hash, last_seq = seq + 1, stored_hash, seq
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None:
        if count:
            report(f"chain head missing, last entry is {last_seq}")
    elif head.seq != last_seq:
        if head.seq > last_seq:
            report(f"deleted tail: chain head says {head.seq} but last entry is {last_seq}")
        else:
            report(f"chain head says {head.seq} but last entry is {last_seq}: entries added past the head")
    elif head.hash != prev_hash:
        report(f"chain head hash does not match the hash of seq {last_seq}")
    return count


@contextmanager
def _snapshot():
    """One consistent view of the log on PostgreSQL: entries appended while the check runs are
    neither half-seen nor mistaken for a cut tail."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


class Command(BaseCommand):
    help = "Recompute the hash chain of the audit log; exit 1 and name every problem if it was changed."

    def add_arguments(self, parser):
        parser.add_argument("--chunk-size", type=int, default=2000, help="Entries read per query.")

    def handle(self, *args, chunk_size, **options):
        found = 0

        def report(problem: str) -> None:
            nonlocal found
            found += 1
            self.stderr.write(problem)

        with _snapshot():
            count = verify_audit_chain(report=report, chunk_size=chunk_size)
        if found:
            raise CommandError(f"{count} entries, chain broken: {found} problem{'s' if found != 1 else ''}",
                               returncode=1)
        self.stdout.write(f"{count} entries, chain intact")
