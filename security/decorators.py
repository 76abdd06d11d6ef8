"""Password re-entry before the decisions that matter (approvals, provisioning, sign-offs)."""

import functools
from urllib.parse import urlencode, urlparse

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from . import services


def _back_to(request) -> str:
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
        parsed = urlparse(referer)
        return parsed.path + (f"?{parsed.query}" if parsed.query else "")
    return reverse("home")


def redirect_or_hx(request, url: str):
    """A redirect; for htmx, a 200 with HX-Redirect (a 302 would be followed by the browser
    before htmx could see the header, and the fragment would be swapped into the page)."""
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=200)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def password_recently_entered(view):
    """Unless the password was entered in the last few minutes, ask for it and come back.

    The action is not carried out: after confirming, the person repeats it on the page they
    were on, seeing again what they are about to approve."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if services.password_recent(request):
            return view(request, *args, **kwargs)
        messages.info(request, "Confirm your password to continue. Then repeat the action.")
        url = f"{reverse('security:confirm_password')}?{urlencode({'next': _back_to(request)})}"
        return redirect_or_hx(request, url)

    return wrapped
