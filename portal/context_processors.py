from functools import partial

from django.conf import settings

from .navigation import primary_menu


def portal(request):
    context = {"oidc_enabled": settings.OIDC_ENABLED}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        context["roles"] = user.roles
        # Called by the template only where the menu is shown.
        context["primary_menu"] = partial(primary_menu, user.roles)
    return context
