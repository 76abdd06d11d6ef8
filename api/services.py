"""The API's rules: who holds a token, what it may call, and the record of each call.

A token is made by an ITSA administrator and acts as them: every read goes through the same
selectors as their pages, every change through the same service with them as `by`, so separation of
duties and maker-checker hold as on the pages. A token narrows that further: to its scopes, and to
one system when it names one. Its secret is shown once; only its SHA-256 is kept.
"""

import hashlib
import hmac
import secrets
from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import SurveillanceSystem, User
from portal.audit import audit_record, audit_refusal, service_transaction
from portal.errors import NotAllowed, RuleViolation

from .models import ApiToken, Scope

SECRET_START = "sap_"
PREFIX_LENGTH = 8


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def require_token_keeper(by: User, *, action: str) -> None:
    """Only ITSA makes and revokes tokens: they are how systems reach the city's record of access."""
    if not by.roles.is_itsa:
        audit_refusal(actor=by, action=action)
        raise NotAllowed("Only ITSA administrators make and revoke API tokens.")


@service_transaction
def token_create(*, name: str, scopes: list[str], expires_on: date, by: User,
                 system: SurveillanceSystem | None = None) -> tuple[ApiToken, str]:
    """A new token and its secret, which is shown once and kept nowhere."""
    require_token_keeper(by, action="api_token.create")
    name = name.strip()
    if not name:
        raise RuleViolation("Name the system or script that will use the token.", field="name")
    scopes = sorted(set(scopes))
    if not scopes or any(scope not in Scope.values for scope in scopes):
        raise RuleViolation("Choose what the token may do.", field="scopes")
    today = timezone.localdate()
    longest = settings.API_TOKEN_MAX_DAYS
    if expires_on <= today:
        raise RuleViolation("The token must expire after today.", field="expires_on")
    if expires_on > today + timedelta(days=longest):
        raise RuleViolation(f"A token lasts at most {longest} days: make a new one when it expires.",
                            field="expires_on")
    if ApiToken.objects.filter(name__iexact=name, revoked_at__isnull=True, expires_on__gte=today).exists():
        raise RuleViolation(f"A token named “{name}” is in use: revoke it first, or choose another name.",
                            field="name")
    while True:
        secret = SECRET_START + secrets.token_urlsafe(32)
        prefix = secret[len(SECRET_START):len(SECRET_START) + PREFIX_LENGTH]
        if not ApiToken.objects.filter(prefix=prefix).exists():
            break
    token = ApiToken.objects.create(name=name, scopes=scopes, system=system, created_by=by, expires_on=expires_on,
                                    prefix=prefix, key_hash=_digest(secret))
    audit_record(actor=by, action="api_token.create", target=token,
                 detail=f"scopes {', '.join(scopes)}; {('system ' + system.code) if system else 'every system'}; "
                        f"expires {expires_on:%Y-%m-%d}")
    return token, secret


@service_transaction
def token_revoke(*, token: ApiToken, by: User) -> ApiToken:
    """Stop a token at once. Revoking a revoked token changes nothing."""
    require_token_keeper(by, action="api_token.revoke")
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        return token
    token.revoked_at, token.revoked_by = timezone.now(), by
    token.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(actor=by, action="api_token.revoke", target=token)
    return token


def token_for_secret(secret: str) -> ApiToken | None:
    """The usable token whose secret this is, or None: unknown, revoked, expired, or its maker can
    no longer sign in. Compared in constant time."""
    if not secret.startswith(SECRET_START):
        return None
    prefix = secret[len(SECRET_START):len(SECRET_START) + PREFIX_LENGTH]
    token = ApiToken.objects.select_related("created_by", "system").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.key_hash, _digest(secret)):
        return None
    if not token.is_usable or not token.created_by.is_active:
        return None
    # At most once a minute: a busy integration does not write on every call.
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def api_call_record(*, user: User, token: ApiToken | None, action: str, target: object = "", detail: str = "",
                    outcome: str = "success") -> None:
    """A call that read personal data or changed something, in the audit trail with the token's name."""
    via = f"API token “{token.name}” (#{token.pk})" if token is not None else "API, signed-in session"
    audit_record(actor=user, action=action, target=target, outcome=outcome,
                 detail=f"{via}; {detail}" if detail else via)
