"""The home page: the dashboard of the lifecycle, with what waits for the person's decision under
Sections 3.6, 3.7, 3.11 and 5, and the way to report misuse (5.2), which every signed-in person has."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from access_requests.views import dashboard_context

from .oversight import to_decide


@login_required
@require_GET
def home(request):
    context = dashboard_context(request)
    context["to_decide"] = to_decide(request.user)
    return render(request, "requests/dashboard.html", context)
