"""Reads of API tokens: only ITSA, who makes and revokes them, sees them."""

from accounts.models import SurveillanceSystem

from .models import ApiToken


def tokens_visible_to(user):
    """The token pages' tokens: ITSA's, every one; nobody else's, not even oversight's (a token's
    name and scopes map the city's integrations, and nothing there is about a person's access)."""
    if not user.is_authenticated or not user.roles.is_itsa:
        return ApiToken.objects.none()
    return ApiToken.objects.select_related("created_by", "revoked_by", "system")


def systems_for_tokens():
    """The systems a token may be narrowed to: every one (they are few)."""
    return SurveillanceSystem.objects.order_by("name")
