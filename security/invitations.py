"""First sign-in and recovery: invitations to set a first password, "Forgot your password?", and the
reset of a lost authenticator. Views, the person page and the send_invitations command call these."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes, force_str
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuthorizedRequester, Department, User
from portal.audit import audit_record, audit_refusal, service_transaction
from portal.emails import email_send
from portal.errors import NotAllowed, RuleViolation
from portal.models import AuditEvent

from .services import second_factor_required, sessions_end

INVITATION = "invitation"
RESET = "reset"


class _LinkTokens(PasswordResetTokenGenerator):
    """Django's reset tokens: their hash covers the password and the last sign-in, so a link stops
    working once the password is set. Each kind has its own salt (an invitation link does not open a
    reset) and its own lifetime."""

    def __init__(self, kind: str, lifetime):
        super().__init__()
        self.key_salt = f"security.invitations.{kind}"
        self.lifetime = lifetime

    def problem(self, user, token: str) -> str | None:
        """None for a good link; otherwise "expired" or "invalid" (used, tampered, or not ours)."""
        try:
            stamp = base36_to_int(str(token).split("-")[0])
        except ValueError:
            return "invalid"
        if not any(constant_time_compare(self._make_token_with_timestamp(user, stamp, secret), token)
                   for secret in [self.secret, *self.secret_fallbacks]):
            return "invalid"
        if self._num_seconds(self._now()) - stamp > self.lifetime():
            return "expired"
        return None


TOKENS = {
    INVITATION: _LinkTokens(INVITATION, lambda: int(timedelta(days=settings.INVITATION_DAYS).total_seconds())),
    RESET: _LinkTokens(RESET, lambda: settings.PASSWORD_RESET_TIMEOUT),
}
URL_NAMES = {INVITATION: "security:set_password", RESET: "security:reset_password"}


def link_for(person: User, kind: str) -> str:
    path = reverse(URL_NAMES[kind], kwargs={"uidb64": urlsafe_base64_encode(force_bytes(person.pk)),
                                            "token": TOKENS[kind].make_token(person)})
    return f"{settings.PORTAL_BASE_URL}{path}"


def person_of_link(uidb64: str) -> User | None:
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    # A number no id column holds names nobody (the database would refuse it, not find nothing).
    return User.objects.filter(pk=pk, is_active=True).first() if 0 < pk < 2**63 else None


def link_problem(*, person: User | None, token: str, kind: str) -> str | None:
    """Why a set-password link cannot be used ("expired" or "invalid"), or None when it can."""
    if person is None:
        return "invalid"
    return TOKENS[kind].problem(person, token)


# --- Invitations ---------------------------------------------------------------------------------

def people_to_invite():
    """Active people with a portal role (a city role group, head of a department, or authorized
    requester) and no password yet."""
    with_role = User.objects.filter(
        Q(groups__isnull=False) | Q(pk__in=Department.objects.values("head"))
        | Q(pk__in=AuthorizedRequester.objects.current().values("person"))
    ).filter(is_active=True).distinct().order_by("email")
    return [person for person in with_role if not person.has_usable_password()]


def _invite(*, person: User, by) -> None:
    if not person.is_active:
        audit_refusal(actor=by, action="invitation.send", target=person, outcome="refused", detail="deactivated")
        raise RuleViolation(f"{person} is deactivated; an invitation would not let them sign in.")
    if person.has_usable_password() and not settings.OIDC_ENABLED:
        audit_refusal(actor=by, action="invitation.send", target=person, outcome="refused",
                      detail="already has a password")
        raise RuleViolation(f"{person} already has a password; they can use “Forgot your password?” "
                            "on the sign-in page.")
    context = {"person": person, "oidc": settings.OIDC_ENABLED, "days": settings.INVITATION_DAYS,
               "second_factor": second_factor_required(person)}
    if not settings.OIDC_ENABLED:
        # With the city's sign-in, there is no portal password to set: the mail carries no link.
        context["link"] = link_for(person, INVITATION)
    email_send("invitation", to=[person.email], context=context)
    audit_record(actor=by, action="invitation.send", target=person,
                 detail="use the city account" if settings.OIDC_ENABLED else f"link valid {settings.INVITATION_DAYS} days")


@service_transaction
def invitation_send(*, person: User, by: User) -> None:
    """ITSA sends a person an invitation: a single-use link, valid INVITATION_DAYS, to set a first
    password (or, with the city's sign-in, word to use the city account)."""
    if not by.roles.is_itsa:
        audit_refusal(actor=by, action="invitation.send", target=person, detail="not ITSA")
        raise NotAllowed("Only ITSA sends invitations.")
    _invite(person=person, by=by)


def invite_on_role_given(*, person: User, by) -> None:
    """The invitation that follows a role given by a service (accounts.signals.portal_role_given),
    in that service's transaction: mailed once it commits, like every mail."""
    _invite(person=person, by=by)


def invitations_send_all() -> list[User]:
    """The send_invitations command: every active person with a portal role and no password yet."""
    sent = []
    for person in people_to_invite():
        service_transaction(_invite)(person=person, by=None)
        sent.append(person)
    return sent


# --- Setting the password from a link --------------------------------------------------------------

@service_transaction
def password_set_from_link(*, person: User | None, token: str, kind: str, password: str) -> User:
    """Set the password from an invitation or reset link. The link then stops working (the token's
    hash covers the password); the person signs in with it, and a role that needs a second factor
    sets one up then."""
    action = "invitation.accept" if kind == INVITATION else "password_reset.complete"
    problem = link_problem(person=person, token=token, kind=kind)
    if problem is not None:
        audit_refusal(actor=None, action=action, target=person or "unknown person", outcome="refused",
                      detail=f"{problem} link")
        raise RuleViolation(LINK_PROBLEMS[problem])
    person = User.objects.select_for_update().get(pk=person.pk)
    try:
        validate_password(password, person)
    except ValidationError as weak:
        raise RuleViolation(" ".join(weak.messages), field="new_password1") from None
    person.set_password(password)
    person.save()
    if kind == RESET:
        # Whoever knew the old password is signed out.
        sessions_end(user=person, reason="password reset")
    audit_record(actor=None, action=action, target=person)
    return person


LINK_PROBLEMS = {
    "expired": "This link has expired. Ask ITSA to send you a new invitation, or use “Forgot your password?” "
               "on the sign-in page.",
    "invalid": "This link has already been used or is not valid. Ask ITSA to send you a new invitation, or use "
               "“Forgot your password?” on the sign-in page.",
}


# --- Forgot your password? ---------------------------------------------------------------------------

def _requests_since(since, **where) -> int:
    return AuditEvent.objects.filter(action="password_reset.request", at__gte=since, **where).count()


@service_transaction
def password_reset_request(*, email: str, ip_address: str | None) -> None:
    """Mail a reset link to the address if it names an active person. The caller answers the same
    whatever happens here, so the page tells nobody which addresses exist.

    The limits count the requests on the audit trail, per address typed and per client address: the
    count is the same in every process, and the audit chain's lock (taken first) puts requests in one
    order."""
    email = (email or "").strip().lower()[:254]
    since = timezone.now() - timedelta(seconds=settings.PASSWORD_RESET_WINDOW_SECONDS)
    limited = (_requests_since(since, target=email[:200]) >= settings.PASSWORD_RESET_ADDRESS_LIMIT
               or (ip_address is not None
                   and _requests_since(since, ip_address=ip_address) >= settings.PASSWORD_RESET_IP_LIMIT))
    person = User.objects.filter(email__iexact=email, is_active=True).first() if email else None
    if limited:
        audit_record(actor=None, action="password_reset.request", target=email, outcome="denied",
                     detail=f"too many requests from {ip_address or 'an unknown address'} or for this address")
        return
    if person is None:
        audit_record(actor=None, action="password_reset.request", target=email, outcome="denied",
                     detail="unknown address")
        return
    email_send("password-reset", to=[person.email],
               context={"person": person, "link": link_for(person, RESET),
                        "hours": settings.PASSWORD_RESET_TIMEOUT // 3600, "oidc": settings.OIDC_ENABLED})
    audit_record(actor=None, action="password_reset.request", target=email, detail="link sent")


# --- A lost authenticator -----------------------------------------------------------------------------

@service_transaction
def authenticator_reset(*, person: User, by: User) -> int:
    """ITSA removes a person's authenticator and recovery codes (a lost phone), never their own, and
    ends every session of theirs; they set up a new one at their next sign-in."""
    if not by.roles.is_itsa:
        audit_refusal(actor=by, action="authenticator.reset", target=person, detail="not ITSA")
        raise NotAllowed("Only ITSA resets an authenticator.")
    if person.pk == by.pk:
        audit_refusal(actor=by, action="authenticator.reset", target=person, outcome="refused",
                      detail="own authenticator")
        raise NotAllowed("You cannot reset your own authenticator: ask another ITSA administrator.")
    User.objects.select_for_update().filter(pk=person.pk).first()
    devices = TOTPDevice.objects.filter(user=person).count() + StaticDevice.objects.filter(user=person).count()
    if not devices:
        audit_refusal(actor=by, action="authenticator.reset", target=person, outcome="refused",
                      detail="no authenticator")
        raise RuleViolation(f"{person} has no authenticator to reset.")
    TOTPDevice.objects.filter(user=person).delete()
    StaticDevice.objects.filter(user=person).delete()
    ended = sessions_end(user=person, reason="authenticator reset", by=by)
    audit_record(actor=by, action="authenticator.reset", target=person, detail=f"{ended} session(s) ended")
    email_send("authenticator-reset", to=[person.email], context={"person": person, "by": by})
    return ended
