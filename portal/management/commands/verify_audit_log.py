"""Recompute the audit chain and say whether anyone changed it.

Exit status 0 and one line ("N entries, chain intact") when every entry is there, in order, with
its hash, the chain head is signed with the key and every anchor (kept in the database, or given
with `--anchor SEQ:HASH` as published) names an entry of the chain; otherwise every problem on its
own line and exit status 1. Reads the entries in chunks of ordered numbers, so the memory it needs
does not grow with the log.
"""

import hmac
import re
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from portal.audit import anchor_mac, chain_hash, head_is_signed
from portal.models import AUDIT_CHAIN_GENESIS, AuditAnchor, AuditChainHead, AuditEvent

FIELDS = ("seq", "prev_hash", "hash", "at", "actor_id", "action", "outcome", "target", "ip_address", "detail")
ANCHOR = re.compile(r"(\d{1,19}):([0-9a-fA-F]{64})")


@dataclass(frozen=True)
class Anchor:
    """An entry someone recorded outside the database: its number and its hash."""

    seq: int
    hash: str
    name: str  # how a problem names it


def parse_anchor(text: str) -> Anchor:
    match = ANCHOR.fullmatch(text.strip())
    if match is None:
        raise CommandError(
            f"--anchor {text!r} is not SEQ:HASH: give an entry's number, a colon and its 64-character hexadecimal "
            "hash, as published on the transparency page (e.g. --anchor 1234:9f86d0…).", returncode=2)
    seq, hash_ = int(match[1]), match[2].lower()
    return Anchor(seq=seq, hash=hash_, name=f"anchor {seq}:{hash_[:12]}…")


def _stored_anchors(report) -> list[Anchor]:
    """The anchors the nightly task kept; one whose MAC does not verify is reported, not trusted."""
    anchors = []
    for day, seq, hash_, mac in AuditAnchor.objects.order_by("day").values_list("day", "seq", "hash", "mac"):
        if not hmac.compare_digest(mac, anchor_mac(day=day, seq=seq, hash=hash_)):
            report(f"the anchor of {day} is not signed with the key: it was written or changed outside the portal")
        else:
            anchors.append(Anchor(seq=seq, hash=hash_, name=f"the anchor of {day}"))
    return anchors


def _gap(first: int, last: int) -> str:
    if first == last:
        return f"seq {first} missing"
    return f"seq {first} to {last} missing ({last - first + 1} entries)"


def verify_audit_chain(*, report, chunk_size: int = 2000, anchors: list[Anchor] = ()) -> tuple[int, int]:
    """Call `report` with each problem of the chain, in order; return the number of entries and the
    number of anchors (given and kept) checked against it."""
    anchors = [*anchors, *_stored_anchors(report)]
    waiting: dict[int, list[Anchor]] = {}
    for anchor in anchors:
        waiting.setdefault(anchor.seq, []).append(anchor)
    # Seq 0 is no entry: it anchors the start of the chain.
    for anchor in waiting.pop(0, []):
        if anchor.hash != AUDIT_CHAIN_GENESIS:
            report(f"{anchor.name}: seq 0 is the start of the chain, whose hash is {AUDIT_CHAIN_GENESIS}")
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
            for anchor in waiting.pop(seq, []):
                if anchor.hash != stored_hash:
                    report(f"{anchor.name}: seq {seq} has another hash: the trail was rewritten at or before it")
            expected, prev_hash, last_seq = seq + 1, stored_hash, seq
    for seq in sorted(waiting):
        for anchor in waiting[seq]:
            if seq > last_seq:
                report(f"cut tail: {anchor.name} names seq {seq} but the last entry is {last_seq}")
            else:
                report(f"{anchor.name}: seq {seq} is missing")
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None:
        if count:
            report(f"chain head missing, last entry is {last_seq}")
        return count, len(anchors)
    if not head_is_signed(head):
        report("chain head is not signed with the key: it was written or changed outside the portal")
    if head.seq != last_seq:
        if head.seq > last_seq:
            report(f"deleted tail: chain head says {head.seq} but last entry is {last_seq}")
        else:
            report(f"chain head says {head.seq} but last entry is {last_seq}: entries added past the head")
    elif head.hash != prev_hash:
        report(f"chain head hash does not match the hash of seq {last_seq}")
    return count, len(anchors)


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
        parser.add_argument(
            "--anchor", action="append", default=[], metavar="SEQ:HASH",
            help="An entry's number and hash as published on the transparency page or mailed to ITSA: the "
                 "entry must still be there with that hash, and the chain intact past it. Repeatable.")

    def handle(self, *args, chunk_size, anchor, **options):
        given = [parse_anchor(text) for text in anchor]
        found = 0

        def report(problem: str) -> None:
            nonlocal found
            found += 1
            self.stderr.write(problem)

        with _snapshot():
            count, anchors = verify_audit_chain(report=report, chunk_size=chunk_size, anchors=given)
        if found:
            raise CommandError(f"{count} entries, chain broken: {found} problem{'s' if found != 1 else ''}",
                               returncode=1)
        matched = f"; {anchors} anchor{'s' if anchors != 1 else ''} matched" if anchors else ""
        self.stdout.write(f"{count} entries, chain intact{matched}")
