"""Django's and axes' sign-in events go to the audit trail and the lockout count. Changes that
end sessions (a deactivation, a suspension) call security.services themselves."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.models import User
from accounts.signals import portal_role_given
from portal.audit import audit_record
from portal.client_address import client_address

from . import invitations, lockout, services
from .models import UserSession


@receiver(user_logged_in)
def _signed_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        services.session_started(request=request, user=user)
    audit_record(actor=user, action="sign_in", target=user)


@receiver(user_login_failed)
def _sign_in_failed(sender, credentials, request=None, **kwargs):
    username = str((credentials or {}).get("username") or "")[:100]
    if not username:  # a city-account (OIDC) sign-in: its backend records the refusal with the reason
        return
    audit_record(actor=None, action="sign_in", target=username, outcome="denied", detail="wrong e-mail or password")
    # Runs after axes's own receiver (axes comes first in INSTALLED_APPS), so this failure is counted.
    services.account_failures_check(username=lockout.username(request, credentials),
                                    ip_address=client_address(request) if request is not None else None)


@receiver(user_logged_out)
def _signed_out(sender, request, user, **kwargs):
    if request is not None and getattr(request, "session", None) is not None and request.session.session_key:
        UserSession.objects.filter(session_key=request.session.session_key).delete()
    if user is not None:
        audit_record(actor=user, action="sign_out", target=user)


@receiver(user_locked_out)
def _locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    services.account_lock(username=username or "", ip_address=ip_address)


@receiver(portal_role_given)
def _invite_who_cannot_sign_in(sender, person: User, by, **kwargs):
    """A person given a portal role who has no password yet gets an invitation, sent in the name of
    whoever gave the role. Those who can already sign in (a password, or the city's sign-in with a
    password already set) get none; nothing here can undo the role given."""
    if not person.is_active or person.has_usable_password():
        return
    invitations.invite_on_role_given(person=person, by=by)
