"""A limit of calls per token (and per person for sessions), counted in the shared cache so that
every web worker counts the same calls; and a limit of wrong tokens per address."""

import logging

from rest_framework.throttling import SimpleRateThrottle

from portal.client_address import client_address

logger = logging.getLogger(__name__)


class PerTokenThrottle(SimpleRateThrottle):
    scope = "api"
    cache_alias = "api"

    def __init__(self):
        from django.core.cache import caches

        self.cache = caches[self.cache_alias]
        super().__init__()

    def get_ident(self, request):
        # The address the audit trail and the sign-in lockout use: X-Forwarded-For only as far as a
        # trusted proxy wrote it, so a client cannot name a new address for each call.
        return client_address(request) or "unknown"

    def get_cache_key(self, request, view):
        if request.auth is not None:
            return self.cache_format % {"scope": self.scope, "ident": f"token-{request.auth.pk}"}
        if request.user and request.user.is_authenticated:
            return self.cache_format % {"scope": self.scope, "ident": f"person-{request.user.pk}"}
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class FailedTokenThrottle(PerTokenThrottle):
    """Wrong tokens, counted by the address they come from. Past the limit the address is answered 429
    before any token it sends is looked up, a right one too: were a right one let through, guessing
    could go on, each guess told apart by its answer."""

    scope = "api_token_failures"
    # Its own rates: a limit set on the calls of tokens is not one on wrong tokens.
    THROTTLE_RATES = SimpleRateThrottle.THROTTLE_RATES

    def get_cache_key(self, request, view=None):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def exhausted(self, request) -> float | None:
        """The seconds to wait when the address is past the limit, else None. Counts nothing."""
        self.key = self.get_cache_key(request)
        self.now = self.timer()
        self.history = [moment for moment in self.cache.get(self.key, []) if moment > self.now - self.duration]
        return self.wait() if len(self.history) >= self.num_requests else None

    def record(self, request) -> None:
        """One more wrong token from the request's address."""
        self.exhausted(request)
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)
        if len(self.history) == self.num_requests:
            logger.warning("API: %s wrong tokens from %s; its calls wait", self.num_requests, self.get_ident(request))
