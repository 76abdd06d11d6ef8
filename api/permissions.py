"""What a caller may call: a token only within its scopes; a person's session only reads."""

from rest_framework.permissions import BasePermission

from .models import Scope


class HasScope(BasePermission):
    """The view names the scope it needs (`required_scope`); a session may call read views only."""

    message = "This token does not have the scope this call needs."

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        scope = getattr(view, "required_scope", Scope.READ)
        token = request.auth
        if token is None:
            self.message = "Changes through the API need a token; a signed-in session may only read."
            return scope == Scope.READ and request.method in ("GET", "HEAD", "OPTIONS")
        self.message = f"This token does not have the “{scope}” scope this call needs."
        return scope in token.scopes
