"""Who is calling: an integration's token (`Authorization: Bearer sap_…`), or a person signed in to
the portal in this browser, for read calls only."""

from rest_framework import authentication, exceptions
from rest_framework.permissions import SAFE_METHODS

from security.services import second_factor_required

from .services import token_for_secret
from .throttling import FailedTokenThrottle

CHANGES_NEED_A_TOKEN = "Changes through the API need a token; a signed-in session may only read."


class TokenAuthentication(authentication.BaseAuthentication):
    """A token acts as the ITSA administrator who made it (api.services). `request.auth` is the token."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0] != self.keyword:
            return None
        failures = FailedTokenThrottle()
        wait = failures.exhausted(request)
        if wait is not None:
            raise exceptions.Throttled(wait=wait, detail="Too many calls with a wrong token came from this address. "
                                                         "Wait, then check the token your script sends.")
        if len(header) != 2:
            failures.record(request)
            raise exceptions.AuthenticationFailed("Send the token as “Authorization: Bearer sap_…”.")
        token = token_for_secret(header[1])
        if token is None:
            failures.record(request)
            raise exceptions.AuthenticationFailed("The token is unknown, revoked or expired.")
        return token.created_by, token

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class SessionReadAuthentication(authentication.SessionAuthentication):
    """A person's own session, for read calls: a change always comes from a token, and a signed-in
    person who tries one is told so (403), not taken for a stranger. Someone who has not passed the
    second factor their role needs is not signed in, as on the pages."""

    def authenticate(self, request):
        user = getattr(request._request, "user", None)
        if not user or not user.is_active:
            return None
        if not user.is_verified() and (second_factor_required(user) or _has_authenticator(user)):
            return None
        if request.method not in SAFE_METHODS:
            raise exceptions.PermissionDenied(CHANGES_NEED_A_TOKEN)
        return super().authenticate(request)


def _has_authenticator(user) -> bool:
    from security.services import has_authenticator

    return has_authenticator(user)
