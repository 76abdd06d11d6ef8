"""An authentication backend that refuses locked accounts, whatever page signs them in (the
portal's sign-in page, the admin's, or a city account)."""

from django.core.exceptions import PermissionDenied

from accounts.models import User

from . import services


class LockedAccountBackend:
    """Placed right after axes: an account locked by the portal stays locked after axes' own
    15-minute count has expired, until ITSA releases it."""

    def authenticate(self, request, username=None, **kwargs):
        if username:
            person = User.objects.filter(email__iexact=str(username).strip()).first()
            if person is not None and services.open_lock(person, request=request) is not None:
                raise PermissionDenied("account locked")
        return None
