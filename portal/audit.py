"""The one way to write to the audit trail.

A refusal rolls the service's transaction back, and the audit event of a denied or refused attempt
would go with it: `audit_refusal` keeps such events aside and `service_transaction` writes them
once the rollback is done, so the trail shows every attempt.

Entries form a hash chain: each carries a number one above the last, the hash of the entry before
it, and its own HMAC (`chain_hash`). The chain head carries an HMAC with the same key
(`chain_head_mac`), and every night the day's last entry is published outside the database as an
anchor (`audit_anchors_publish`). `python manage.py verify_audit_log` recomputes the chain and checks
the head and the anchors against it.
"""

import contextvars
import functools
import hashlib
import hmac
import ipaddress
import json
import logging
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import GenericIPAddressField
from django.utils import timezone

from .client_address import client_address
from .emails import email_send
from .errors import RuleViolation
from .models import AUDIT_CHAIN_GENESIS, AuditAnchor, AuditChainHead, AuditEvent

security_log = logging.getLogger("portal.security")
_client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_ip", default=None)
_acting_user: contextvars.ContextVar[object | None] = contextvars.ContextVar("acting_user", default=None)


def acting_user():
    """The person on whose behalf the current service call runs (its `by`), if any."""
    return _acting_user.get()


class ClientAddressMiddleware:
    """Remembers where the current request comes from, so services can record it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _client_ip.set(client_address(request))
        try:
            return self.get_response(request)
        finally:
            _client_ip.reset(token)


def chain_hash(*, seq: int, prev_hash: str, at: datetime, actor_id: int | None, action: str, outcome: str,
               target: str, ip_address: str | None, detail: str) -> str:
    """The HMAC-SHA256 of one entry of the chain, keyed by settings.AUDIT_CHAIN_KEY, over a
    canonical JSON text (sorted keys, UTC time, IP address written out in full)."""
    payload = json.dumps({
        "seq": seq,
        "prev_hash": prev_hash,
        "at": at.astimezone(dt_timezone.utc).isoformat(timespec="microseconds"),
        "actor": actor_id,
        "action": action,
        "outcome": outcome,
        "target": target,
        "ip_address": _canonical_ip(ip_address),
        "detail": detail,
    }, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return _mac(payload)


def chain_head_mac(*, seq: int, hash: str) -> str:
    """The HMAC of the chain head: someone who cuts the tail cannot put back a head that verifies."""
    return _mac(f"audit-chain-head:{seq}:{hash}")


def anchor_mac(*, day: date, seq: int, hash: str) -> str:
    """The HMAC of a day's anchor. Its own prefix: an anchor's MAC copied into the head does not verify."""
    return _mac(f"audit-anchor:{day.isoformat()}:{seq}:{hash}")


def _mac(text: str) -> str:
    return hmac.new(settings.AUDIT_CHAIN_KEY.encode(), text.encode(), hashlib.sha256).hexdigest()


def head_is_signed(head: AuditChainHead) -> bool:
    return hmac.compare_digest(head.mac, chain_head_mac(seq=head.seq, hash=head.hash))


@functools.lru_cache(maxsize=4096)
def _canonical_ip(value: str | None) -> str | None:
    # PostgreSQL and SQLite may give back one address in different notations.
    try:
        return ipaddress.ip_address(value).exploded if value else None
    except ValueError:
        return value


def _clean_text(value: str) -> str:
    # PostgreSQL refuses NUL in text: a hostile string must not stop the record of the attempt.
    return value.replace("\x00", "\ufffd")


def _clean_ip(value: str | None) -> str | None:
    """The client's address as the database will store it, or None when it is not an address."""
    try:
        ipaddress.ip_address(value or "")
        return GenericIPAddressField().to_python(value)
    except (ValueError, ValidationError):
        return None


def _locked_chain_head() -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        # A fresh database, or one emptied with TRUNCATE (the test runner's flush): start the
        # chain again after the last entry there is, if any.
        last = AuditEvent.objects.order_by("-seq").values("seq", "hash").first()
        if last is None:
            start = {"seq": 0, "hash": AUDIT_CHAIN_GENESIS, "mac": chain_head_mac(seq=0, hash=AUDIT_CHAIN_GENESIS)}
        else:
            # Not signed: a head rebuilt from whatever entries are left would vouch for a cut tail.
            security_log.warning("audit chain head missing: restarted after entry %s", last["seq"])
            start = {**last, "mac": ""}
        AuditChainHead.objects.get_or_create(pk=1, defaults=start)
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head


def lock_audit_chain() -> None:
    """Take the audit chain's lock at the start of a transaction that will write to the trail.

    Every such transaction takes this lock before any other row lock (service_transaction does it
    for every service): with one order for all, two transactions cannot each hold a lock the other
    waits for. Writes that are audited therefore run one at a time, which a city's rate of
    approvals and sign-offs allows many times over; reads are not affected."""
    _locked_chain_head()


def audit_record(*, actor, action: str, target: object = "", outcome: str = AuditEvent.Outcome.SUCCESS,
                 detail: str = "", anonymous: bool = False) -> AuditEvent:
    """Append one entry. `anonymous` keeps neither actor nor client address (an anonymous incident
    report, 5.2): an address names a reporter as surely as a name does."""
    if anonymous or (actor is not None and not getattr(actor, "is_authenticated", False)):
        actor = None
    event = AuditEvent(
        actor=actor,
        action=_clean_text(action),
        outcome=outcome,
        target=_clean_text(str(target))[:200],
        ip_address=None if anonymous else _clean_ip(_client_ip.get()),
        detail=_clean_text(detail),
    )
    # The chain head's row lock puts appends in one order: each entry gets the next number and the
    # hash of the one before. The lock is held until the caller's transaction ends.
    with transaction.atomic():
        head = _locked_chain_head()
        event.seq, event.prev_hash, event.at = head.seq + 1, head.hash, timezone.now()
        event.hash = chain_hash(
            seq=event.seq, prev_hash=event.prev_hash, at=event.at, actor_id=event.actor_id, action=event.action,
            outcome=event.outcome, target=event.target, ip_address=event.ip_address, detail=event.detail,
        )
        event.save()
        # Only a head the portal signed is signed again: signing on top of one put there without
        # the key would hide it at the next append.
        signed = head_is_signed(head)
        head.seq, head.hash = event.seq, event.hash
        head.mac = chain_head_mac(seq=head.seq, hash=head.hash) if signed else ""
        head.save(update_fields=["seq", "hash", "mac"])
    if outcome != AuditEvent.Outcome.SUCCESS:
        security_log.warning("%s %s by %s: %s", action, target, actor, outcome)
    return event


_refusals: contextvars.ContextVar[list[dict] | None] = contextvars.ContextVar("refusals", default=None)


def audit_refusal(*, actor, action: str, target: object = "", outcome: str = "denied", detail: str = "") -> None:
    """Record a denied or refused attempt; inside a service transaction, after its rollback."""
    event = {"actor": actor, "action": action, "target": target, "outcome": outcome, "detail": detail}
    pending = _refusals.get()
    if pending is None:
        audit_record(**event)
    else:
        pending.append(event)


_after_rollback: contextvars.ContextVar[list | None] = contextvars.ContextVar("after_rollback", default=None)


def after_rollback(fn) -> None:
    """Run `fn` once the current service transaction is over, where the events of its refusals are
    written: after the rollback of a refusal (a record of the refused attempt that must outlive it),
    or after the commit when the refusal was handled inside. Outside a service transaction, at once."""
    pending = _after_rollback.get()
    if pending is None:
        fn()
    else:
        pending.append(fn)


def service_transaction(func):
    """`transaction.atomic` for a service function that keeps the audit events of its refusals
    and takes the audit chain's lock first (see lock_audit_chain)."""

    @functools.wraps(func)
    def locked_first(*args, **kwargs):
        lock_audit_chain()
        return func(*args, **kwargs)

    atomic = transaction.atomic(locked_first)

    @functools.wraps(func)
    def run(*args, **kwargs):
        # History rows name the person who acted, in a command or a task as much as in a page.
        acting = _acting_user.set(kwargs.get("by", _acting_user.get()))
        try:
            return _run(*args, **kwargs)
        finally:
            _acting_user.reset(acting)

    def _run(*args, **kwargs):
        if _refusals.get() is not None:  # called by another service: the outermost one writes them
            return atomic(*args, **kwargs)
        pending: list[dict] = []
        callbacks: list = []
        token, callbacks_token = _refusals.set(pending), _after_rollback.set(callbacks)
        try:
            result = atomic(*args, **kwargs)
        except RuleViolation:
            # The change is rolled back by now; the record of the attempt must outlive it.
            for event in pending:
                audit_record(**event)
            for fn in callbacks:
                fn()
            raise
        finally:
            _refusals.reset(token)
            _after_rollback.reset(callbacks_token)
        for event in pending:
            audit_record(**event)
        for fn in callbacks:
            fn()
        return result

    return run


def audit_anchors_publish(*, to: list[str], today: date | None = None) -> list[AuditAnchor]:
    """Anchor every day that is over and has no anchor yet: yesterday, and the days before it back
    to the last anchor if the nightly run missed some. A day's anchor is the last entry written
    before its end, city time (seq 0 and the genesis hash for an empty trail). The new anchors are
    mailed to `to` (ITSA); a second run the same night writes and sends nothing."""
    yesterday = (today or timezone.localdate()) - timedelta(days=1)
    anchors = []
    with transaction.atomic():
        # Holding the chain's lock, every entry stamped before now has committed; two runs take turns.
        lock_audit_chain()
        last_day = AuditAnchor.objects.order_by("-day").values_list("day", flat=True).first()
        day = last_day + timedelta(days=1) if last_day else yesterday
        while day <= yesterday:
            end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
            last = AuditEvent.objects.filter(at__lt=end).order_by("-seq").values_list("seq", "hash").first()
            seq, hash_ = last or (0, AUDIT_CHAIN_GENESIS)
            anchors.append(AuditAnchor.objects.create(day=day, seq=seq, hash=hash_,
                                                      mac=anchor_mac(day=day, seq=seq, hash=hash_)))
            day += timedelta(days=1)
        if anchors:
            email_send("audit-anchor", to=to, context={"anchors": anchors})
    return anchors
