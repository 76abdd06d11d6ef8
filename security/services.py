"""The sign-in rules, in one place: who needs a second factor, account locks, sessions and
password re-entry. Views, signals, the admin and commands call these; none re-implements them."""

import time
from dataclasses import dataclass
from importlib import import_module

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from accounts.models import Grant, User
from accounts.services import grant_set_status
from portal.audit import audit_record, audit_refusal, lock_audit_chain, service_transaction
from portal.client_address import client_address
from portal.errors import NotAllowed, RuleViolation

from .models import AccountLock, UserSession

AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"
RECOVERY_CODE_COUNT = 10
LOGIN_AT = "security.login_at"
SEEN_AT = "security.seen_at"
PASSWORD_AT = "security.password_at"
PENDING_KEY = "security.pending_authenticator_key"


# --- Who needs a second factor ----------------------------------------------------------------

def second_factor_required(user) -> bool:
    """ITSA, the Mayor's designees, the two directors of Section 5.1, department heads, oversight (who
    reads every department's records) and admin-site staff must use a second factor; everyone else may."""
    if not getattr(user, "is_authenticated", False):
        return False
    roles = user.roles
    return bool(user.is_staff or user.is_superuser or roles.is_itsa or roles.is_designee or roles.is_director
                or roles.is_head or roles.is_oversight)


def has_authenticator(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _normalise_token(token: str) -> str:
    return "".join(str(token or "").split()).replace("-", "").lower()[:32]


def authenticator_key(session) -> str:
    """The secret of the authenticator being set up, kept in the session until it is confirmed
    (nothing is written to the database before the person proves their app has it)."""
    key = session.get(PENDING_KEY)
    if not key:
        key = default_key()
        session[PENDING_KEY] = key
    return key


def authenticator_preview(key: str, user) -> TOTPDevice:
    """An unsaved authenticator for the set-up page (its QR code and set-up key)."""
    return TOTPDevice(user=user, name=AUTHENTICATOR_NAME, key=key, confirmed=False)


@service_transaction
def authenticator_confirm(*, user, key: str, token: str, by) -> list[str]:
    """Confirm the authenticator being set up with a code from it; returns fresh recovery codes.

    A confirmed authenticator replaces any earlier one."""
    from accounts.models import User

    User.objects.select_for_update().filter(pk=user.pk).first()
    device = authenticator_preview(key, user)
    token = _normalise_token(token)
    if not (token.isdigit() and len(token) == device.digits and device.verify_token(token)):
        audit_refusal(actor=by, action="second_factor.enrol", target=user, outcome="refused",
                      detail="wrong code")
        raise RuleViolation("That code does not match. Enter the 6-digit code your app shows now.")
    TOTPDevice.objects.filter(user=user).delete()
    device.confirmed = True
    device.save()
    codes = _issue_recovery_codes(user)
    audit_record(actor=by, action="second_factor.enrol", target=user)
    return codes


def _issue_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = []
    while len(codes) < RECOVERY_CODE_COUNT:
        code = StaticToken.random_token()
        if code not in codes:
            codes.append(code)
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@service_transaction
def recovery_codes_issue(*, user, by) -> list[str]:
    """New recovery codes; the old ones stop working."""
    if not has_authenticator(user):
        raise RuleViolation("Set up an authenticator app first; recovery codes come with it.")
    codes = _issue_recovery_codes(user)
    audit_record(actor=by, action="second_factor.recovery_codes", target=user)
    return codes


@service_transaction
def second_factor_remove(*, user, by) -> None:
    """Turn the second factor off: only for people who are not required to use one."""
    if not has_authenticator(user):
        raise RuleViolation("You have no second factor to turn off.")
    if second_factor_required(user):
        audit_refusal(actor=by, action="second_factor.remove", target=user, outcome="refused",
                      detail="second factor required for this role")
        raise RuleViolation("Your role requires a second factor; you can replace your authenticator, not remove it.")
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit_record(actor=by, action="second_factor.remove", target=user)


@dataclass(frozen=True)
class CodeCheck:
    """The outcome of a code: accepted, or refused (and how long to wait before the next try)."""

    accepted: bool
    wait: int = 0


def second_factor_verify(*, request, token: str) -> CodeCheck:
    """Check a code from the authenticator or a recovery code; on success the session is verified.

    Six digits are a code from the app; anything else can only be a recovery code. Each is tried
    only where it can match, so a mistyped app code does not slow down the recovery codes. Wrong
    codes slow down: each device doubles its wait after every failure (django-otp throttling)."""
    user = request.user
    token = _normalise_token(token)
    kind = TOTPDevice if token.isdigit() and len(token) == 6 else StaticDevice
    for device in kind.objects.filter(user=user, confirmed=True):
        allowed, _ = device.verify_is_allowed()
        if not allowed:
            continue
        with transaction.atomic():
            device = type(device).objects.select_for_update().get(pk=device.pk)
            matched = device.verify_token(token)
        if matched:
            otp_login(request, device)
            used = "recovery code" if isinstance(device, StaticDevice) else "authenticator"
            audit_record(actor=user, action="sign_in.second_factor", target=user, detail=used)
            return CodeCheck(accepted=True)
    wait = _wait_seconds(kind.objects.filter(user=user, confirmed=True))
    audit_record(actor=user, action="sign_in.second_factor", target=user, outcome="denied",
                 detail=f"wrong code or too soon; next try in {wait} s")
    return CodeCheck(accepted=False, wait=wait)


def _wait_seconds(devices) -> int:
    """Seconds until one of the devices accepts a code again (0 when one does now)."""
    waits = []
    for device in devices:
        allowed, data = device.verify_is_allowed()
        if allowed:
            return 0
        until = (data or {}).get("locked_until")
        waits.append(max(1, int((until - timezone.now()).total_seconds()) + 1) if until else 1)
    return min(waits) if waits else 0


# --- Account locks ------------------------------------------------------------------------------
# django-axes counts the failures of each account from each address and, at AXES_FAILURE_LIMIT,
# locks the account from that address. It has one limit for every way of counting, so the rule for
# failures of one account from many addresses (SIGN_IN_ACCOUNT_FAILURE_LIMIT) lives here, on
# axes's records. Axes's own lock ends after its cool-off; ours stays until released.

def open_lock(user, *, request) -> AccountLock | None:
    """The open lock that refuses this person's sign-in from where the request comes: the lock of
    the whole account, or the one of the request's address. With no request (None), any open lock."""
    locks = AccountLock.objects.filter(user=user, released_at__isnull=True)
    if request is not None:
        locks = locks.filter(Q(scope=AccountLock.Scope.ACCOUNT)
                             | Q(scope=AccountLock.Scope.ADDRESS, ip_address=client_address(request)))
    return locks.first()


def account_lock(*, username: str, ip_address: str | None = None, every_address: bool = False) -> AccountLock | None:
    """Called when sign-in failures reach a limit: the account stays locked, from that address or
    from every address, until ITSA releases it."""
    from accounts.models import User

    user = User.objects.filter(email__iexact=(username or "").strip()).first()
    if user is None:
        audit_record(actor=None, action="sign_in.lockout", target=(username or "")[:100], outcome="denied",
                     detail="unknown account")
        return None
    scope = AccountLock.Scope.ACCOUNT if every_address else AccountLock.Scope.ADDRESS
    with transaction.atomic():
        lock_audit_chain()
        User.objects.select_for_update().filter(pk=user.pk).first()
        open_locks = AccountLock.objects.filter(user=user, released_at__isnull=True)
        # A lock of the whole account already covers every address.
        lock = open_locks.filter(scope=AccountLock.Scope.ACCOUNT).first()
        if lock is None and scope == AccountLock.Scope.ADDRESS:
            lock = open_locks.filter(scope=scope, ip_address=ip_address).first()
        if lock is None:
            lock = AccountLock.objects.create(user=user, scope=scope, ip_address=ip_address)
            if every_address:
                detail = f"{settings.SIGN_IN_ACCOUNT_FAILURE_LIMIT} failed sign-ins from every address together"
            else:
                detail = f"{settings.AXES_FAILURE_LIMIT} failed sign-ins from {ip_address or 'an unknown address'}"
            audit_record(actor=None, action="sign_in.lockout", target=user, outcome="denied", detail=detail)
            # Only the sessions where the guessing happens end: an attacker elsewhere must not be
            # able to sign the person out.
            sessions_end(user=user, reason="account locked", only_from=None if every_address else ip_address)
    return lock


def account_failures_check(*, username: str | None, ip_address: str | None) -> AccountLock | None:
    """After each failed sign-in, once axes has counted it: lock the account from every address when
    its failures from all addresses within the cool-off reach SIGN_IN_ACCOUNT_FAILURE_LIMIT."""
    from accounts.models import User

    if not username or not User.objects.filter(email__iexact=username).exists():
        return None  # no such person: the lockout from one address already records the attempts
    failures = AccessAttempt.objects.filter(username=username, attempt_time__gte=timezone.now() - get_cool_off())
    total = failures.aggregate(total=Sum("failures_since_start"))["total"] or 0
    if total < settings.SIGN_IN_ACCOUNT_FAILURE_LIMIT:
        return None
    return account_lock(username=username, ip_address=ip_address, every_address=True)


def may_release(*, lock: AccountLock, user) -> bool:
    return bool(lock.is_open and user.roles.is_itsa and lock.user_id != user.pk)


def _forget_failures(lock: AccountLock) -> None:
    # Released from one address, the account's failures from the others still count.
    from axes.utils import reset

    address_only = lock.scope == AccountLock.Scope.ADDRESS and lock.ip_address
    reset(username=lock.user.email.lower(), ip=lock.ip_address if address_only else None)


@service_transaction
def account_release(*, lock: AccountLock, by) -> AccountLock:
    """ITSA releases a locked account (from one address or from all); its failure count there starts
    again from zero."""
    lock = AccountLock.objects.select_for_update().get(pk=lock.pk)
    if not may_release(lock=lock, user=by):
        audit_refusal(actor=by, action="sign_in.release", target=lock.user, detail="not allowed")
        raise NotAllowed("Only another ITSA administrator can release a locked account.")
    lock.released_at = timezone.now()
    lock.released_by = by
    lock.save(update_fields=["released_at", "released_by"])
    _forget_failures(lock)
    audit_record(actor=by, action="sign_in.release", target=lock.user, detail=f"lock {lock.where}")
    return lock


@service_transaction
def account_unlock(*, user, by=None) -> list[AccountLock]:
    """Break glass: release every lock of the account, from every address, and forget its failures.
    For when no other ITSA administrator can sign in to release it (the command unlock_account)."""
    from axes.utils import reset

    locks = list(AccountLock.objects.select_for_update().filter(user=user, released_at__isnull=True))
    now = timezone.now()
    for lock in locks:
        lock.released_at, lock.released_by = now, by
        lock.save(update_fields=["released_at", "released_by"])
    reset(username=user.email.lower())
    released = "; ".join(f"lock {lock.where}" for lock in locks) or "no open lock"
    audit_record(actor=by, action="sign_in.release", target=user,
                 detail=f"break glass, every lock and failure of the account: {released}")
    return locks


# --- Sessions -----------------------------------------------------------------------------------

def session_started(*, request, user) -> None:
    """Remember a new signed-in session: when it began (absolute lifetime) and whose it is."""
    now = time.time()
    request.session[LOGIN_AT] = now
    request.session[PASSWORD_AT] = now
    request.session[SEEN_AT] = now
    if request.session.session_key is None:
        request.session.save()
    UserSession.objects.update_or_create(
        session_key=request.session.session_key,
        defaults={"user": user, "ip_address": client_address(request),
                  "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300]},
    )


def session_touch(request) -> None:
    """Keep an active session alive: its idle expiry moves on when the session is saved, which
    happens at most once a minute for a person who only reads pages."""
    now = time.time()
    if now - float(request.session.get(SEEN_AT) or 0) >= settings.SESSION_RENEW_SECONDS:
        request.session[SEEN_AT] = now


def session_expired(request) -> bool:
    """True when the session is older than the absolute lifetime, however active it was."""
    started = request.session.get(LOGIN_AT)
    if started is None:
        return False
    return time.time() - float(started) > settings.SESSION_ABSOLUTE_SECONDS


def sessions_end(*, user, reason: str, by=None, only_from: str | None = None) -> int:
    """End every session of a person at once (deactivated, locked, or access suspended), or only
    those signed in from one address."""
    sessions = UserSession.objects.filter(user=user)
    if only_from is not None:
        sessions = sessions.filter(ip_address=only_from)
    keys = list(sessions.values_list("session_key", flat=True))
    if not keys:
        return 0
    sessions_forget(keys)
    UserSession.objects.filter(session_key__in=keys).delete()
    audit_record(actor=by, action="session.end", target=user, detail=f"{len(keys)} session(s): {reason}")
    return len(keys)


def grant_suspend(*, grant: Grant, by: User | None, reason: str = "") -> Grant:
    """Suspend a grant (accounts.services.grant_set_status) and end its holder's sessions at once
    (S3.10). The caller holds a transaction."""
    grant = grant_set_status(grant=grant, status=Grant.Status.SUSPENDED, by=by, reason=reason)
    sessions_end(user=grant.person, reason=f"access to {grant.system} suspended", by=by)
    return grant


def person_deactivate(*, person: User, by: User | None) -> User:
    """Deactivate a person and end their sessions at once (S3.10)."""
    person.is_active = False
    person.save()
    sessions_end(user=person, reason="account deactivated", by=by)
    return person


def sessions_forget(keys: list[str]) -> None:
    """Delete sessions, from the database and from the session cache in front of it (production
    keeps sessions in Redis too, settings.SESSION_ENGINE): an ended session must not be read back
    from the cache. The cache is cleared again after the commit, in case a request read the session
    back into it while the deletion was not yet committed. A cache that cannot be reached raises:
    better a refusal than a session that outlives its end."""
    Session.objects.filter(session_key__in=keys).delete()
    prefix = getattr(import_module(settings.SESSION_ENGINE).SessionStore, "cache_key_prefix", None)
    if prefix is None or not keys:
        return
    cached = [prefix + key for key in keys]
    cache = caches[settings.SESSION_CACHE_ALIAS]
    cache.delete_many(cached)
    transaction.on_commit(lambda: cache.delete_many(cached))


def live_sessions(user):
    """The person's sessions that have not expired (idle ones end on their own)."""
    alive = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    return UserSession.objects.filter(user=user, session_key__in=alive)


def sessions_end_others(*, user, keep: str | None) -> int:
    """Sign a person out everywhere but here; forget the records of sessions that expired."""
    live = list(live_sessions(user).exclude(session_key=keep).values_list("session_key", flat=True))
    sessions_forget(live)
    UserSession.objects.filter(user=user).exclude(session_key=keep).delete()
    if live:
        audit_record(actor=user, action="session.end", target=user, detail=f"{len(live)} other session(s)")
    return len(live)


def sessions_prune() -> int:
    """Delete expired sessions and the records of sessions that no longer exist (nightly)."""
    Session.objects.filter(expire_date__lte=timezone.now()).delete()
    alive = Session.objects.values("session_key")
    pruned, _ = UserSession.objects.exclude(session_key__in=alive).delete()
    return pruned


# --- Password re-entry ----------------------------------------------------------------------------

def password_recent(request) -> bool:
    """Whether the password was entered within the last PASSWORD_CONFIRM_SECONDS."""
    entered = request.session.get(PASSWORD_AT)
    return entered is not None and time.time() - float(entered) <= settings.PASSWORD_CONFIRM_SECONDS


def password_confirm(*, request, password: str) -> bool:
    """Check the signed-in person's password again; wrong ones count towards the lockout."""
    user = request.user
    checked = authenticate(request, username=user.email, password=password or "")
    if checked is None or checked.pk != user.pk:
        audit_record(actor=user, action="sign_in.password_confirm", target=user, outcome="denied")
        return False
    request.session[PASSWORD_AT] = time.time()
    audit_record(actor=user, action="sign_in.password_confirm", target=user)
    return True
