from django.conf import settings


def portal(request):
    context = {"oidc_enabled": settings.OIDC_ENABLED}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        context["roles"] = user.roles
    return context
