"""Single sign-on through the city's OpenID Connect provider (on when OIDC_RP_CLIENT_ID is set).

The provider vouches for an e-mail address; the portal signs in the active person ITSA entered with
that address, and nobody else: a city account alone never makes a person. Local accounts keep
working, and the portal's own second factor still applies after the provider's sign-in.
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.shortcuts import resolve_url
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView

from portal.audit import audit_record
from portal.models import AuditEvent

from .services import open_lock


class CityOIDCBackend(OIDCAuthenticationBackend):
    def authenticate(self, request, **credentials):
        # Only the callback view signs in through the provider; a password sign-in whose address
        # happens to carry ?code=&state= must not make the portal call the provider.
        if "password" in credentials or "username" in credentials:
            return None
        return super().authenticate(request, **credentials)

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        # The library skips the audience check: a token the provider issued to another of the
        # city's applications must not open the portal.
        audience = payload.get("aud", [])
        if self.OIDC_RP_CLIENT_ID not in ([audience] if isinstance(audience, str) else audience):
            raise SuspiciousOperation("The ID token was issued to another client.")
        return payload

    def get_or_create_user(self, access_token, id_token, payload):
        return self.person_for(self.get_userinfo(access_token, id_token, payload))

    def person_for(self, claims: dict):
        """The active person whose e-mail address the provider has verified; None (and an audit
        event saying why) for anyone else."""
        email = str(claims.get("email") or "").strip()
        # Some providers send the claim as the string "true".
        if not email or claims.get("email_verified") not in (True, "true"):
            return self._refuse(email, "the provider did not vouch for the e-mail address (email_verified)")
        people = list(self.UserModel.objects.filter(email__iexact=email)[:2])
        if not people:
            return self._refuse(email, "no person in the portal has this e-mail address")
        if len(people) > 1:
            return self._refuse(email, "more than one person in the portal has this e-mail address")
        [person] = people
        if not self.user_can_authenticate(person):
            return self._refuse(email, "the person is deactivated")
        # The lock after failed password sign-ins holds for the city account too, until ITSA releases it.
        if open_lock(person, request=getattr(self, "request", None)) is not None:
            return self._refuse(email, "the account is locked after failed sign-ins")
        return person

    def get_user(self, user_id):
        # As for a password sign-in: a person deactivated since signing in is signed out.
        user = super().get_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    def _refuse(self, email: str, reason: str):
        audit_record(actor=None, action="sign_in", target=email[:200], outcome=AuditEvent.Outcome.DENIED,
                     detail=f"city account (OpenID Connect): {reason}")
        return None


class CityOIDCCallbackView(OIDCAuthenticationCallbackView):
    @property
    def failure_url(self):
        return resolve_url(settings.LOGIN_URL)

    def login_failure(self):
        messages.error(
            self.request,
            "Your city account did not sign you in to the portal. Sign in with your e-mail address and portal "
            "password, or ask ITSA to check that the portal has your city e-mail address.",
        )
        return super().login_failure()
