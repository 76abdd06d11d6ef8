"""Session policy and the second factor, for every request."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse

from portal.audit import audit_record

from . import services
from .decorators import redirect_or_hx


class SessionPolicyMiddleware:
    """Ends a session at its absolute lifetime, however active it was, and keeps an active one
    from reaching its idle timeout (the session's own expiry)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and services.session_expired(request):
            audit_record(actor=user, action="session.expired", target=user, detail="absolute lifetime reached")
            logout(request)
            if _is_api(request):
                return self.get_response(request)  # signed out: the API answers 401 in its own terms
            messages.info(request, "Your session has ended. Sign in again to continue.")
            return redirect(f"{reverse('login')}?{urlencode({'next': request.get_full_path()})}")
        if user is not None and user.is_authenticated:
            services.session_touch(request)
        return self.get_response(request)


def _is_api(request) -> bool:
    """The API answers in problem details, never with a redirect to a page."""
    return request.path.startswith("/api/")


# Pages a signed-in person may reach before passing the second factor.
_OPEN_BEFORE_SECOND_FACTOR = ("security:verify", "security:setup", "logout", "healthz", "favicon")


class RequireSecondFactorMiddleware:
    """Nothing but the second-factor pages until the person has passed it: people with an
    authenticator must enter a code; people whose role requires one must set one up first."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._static = settings.STATIC_URL

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.is_verified() or request.path.startswith(self._static):
            return self.get_response(request)
        open_paths = {reverse(name) for name in _OPEN_BEFORE_SECOND_FACTOR}
        # The public transparency pages are open to everyone, halfway through signing in too.
        if request.path in open_paths or request.path.startswith(reverse("transparency:index")):
            return self.get_response(request)
        if _is_api(request):
            # The API's session sign-in (api.authentication) treats this person as not signed in.
            return self.get_response(request)
        if services.has_authenticator(user):
            target = "security:verify"
        elif services.second_factor_required(user):
            target = "security:setup"
        else:
            return self.get_response(request)
        return redirect_or_hx(request, f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
