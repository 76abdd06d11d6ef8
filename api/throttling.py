"""A limit of calls per token (and per person for sessions), counted in the shared cache so that
every web worker counts the same calls."""

from rest_framework.throttling import SimpleRateThrottle


class PerTokenThrottle(SimpleRateThrottle):
    scope = "api"
    cache_alias = "api"

    def __init__(self):
        from django.core.cache import caches

        self.cache = caches[self.cache_alias]
        super().__init__()

    def get_cache_key(self, request, view):
        if request.auth is not None:
            return self.cache_format % {"scope": self.scope, "ident": f"token-{request.auth.pk}"}
        if request.user and request.user.is_authenticated:
            return self.cache_format % {"scope": self.scope, "ident": f"person-{request.user.pk}"}
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
