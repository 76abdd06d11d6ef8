"""The portal's own pages: the health check, the error pages and the benchmark's reference pages."""

import logging

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse, HttpResponseServerError
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_GET, require_safe

from .audit import audit_record
from .models import AuditEvent

logger = logging.getLogger(__name__)
# What server_error sends when even the portal's layout cannot be rendered.
SERVER_ERROR_PLAIN = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Something went wrong — Surveillance Access Portal</title></head>
<body><main><h1>Something went wrong on our side</h1>
<p>The portal could not finish this page. This is not something you did.</p>
<p>If you were sending a form, open the page again and check whether it was saved before you send it a second time.
Try again in a few minutes. If it keeps happening, tell ITSA what you were doing and at what time.</p>
<p><a href="/">Go to the home page</a></p></main></body></html>
"""


@require_GET
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


@require_safe
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links: send them to the portal's icon."""
    return redirect(static("favicon.svg"))


@require_GET
def smoke_server_error(request):
    """Fails on purpose, so that the production smoke run (bin/smoke) can find the traceback in the
    logs. Routed only when SMOKE_ROUTES is set, never in a deployment."""
    raise RuntimeError("Deliberate server error for the smoke run")


@require_GET
def bench_baseline(request):
    """The ceiling a page is compared with under load (bench/load.py): one trivial query through the
    same middleware as every page. Routed only when BENCH_BASELINE is set, never in a deployment."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return HttpResponse("ok", content_type="text/plain")


@login_required
@require_GET
def bench_signed_in(request):
    """The floor of a signed-in page (bench/load.py): what every page of a signed-in person pays
    before it reads any data of its own (the session, the person, their authenticator, their roles,
    the navigation and the layout). Routed only when BENCH_BASELINE is set, never in a deployment."""
    return render(request, "portal/bench_signed_in.html")


# The page's sign-out form needs a token even when the refusal came before the CSRF check.
@requires_csrf_token
def permission_denied(request, exception=None):
    """handler403: a refusal is a security event, on the audit trail like every other."""
    reason = str(exception or "").strip()
    audit_record(actor=getattr(request, "user", None), action="permission.denied", target=request.path,
                 outcome=AuditEvent.Outcome.DENIED, detail=f"{request.method} {reason}".strip())
    return render(request, "403.html", status=403)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a post without a valid token (a forged form, or one left open too long)
    is refused and written to the audit trail; the page says what to do next."""
    audit_record(actor=getattr(request, "user", None), action="csrf.failed", target=request.path[:200],
                 outcome=AuditEvent.Outcome.DENIED, detail=f"{request.method} {reason}".strip())
    return render(request, "403_csrf.html", status=403)


def server_error(request):
    """handler500: the portal's page from its layout alone, without the request or the context
    processors, since the database or the session may be what failed. If even the layout cannot be
    rendered (a static file missing from the manifest, say), the same words in plain HTML."""
    try:
        body = loader.render_to_string("500.html")
    except Exception:
        logger.exception("The error page could not be rendered; the plain one was sent instead.")
        body = SERVER_ERROR_PLAIN
    return HttpResponseServerError(body)
