"""DRF throttles shared by the apps: rates read from settings when used, hits counted, IP limit.

An API key's requests count against that key (``apikeys.throttling``). Every other request
counts against its client IP (``AnonIpThrottle``), and a customer token's requests also
against that token (``sessions_app.throttling``): the IP budget stops a client that invents
a new token per request, the token budget a client that spreads one token over many
addresses. Signed-in active staff users are not throttled: they are identified people whose
access is revoked by deactivating them. A refused request is a
429 in the error shape with ``Retry-After`` and counts in ``RATE_LIMIT_HITS`` by scope.
"""

from __future__ import annotations

import logging

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from .clientip import client_ip
from .conf import parse_rate
from .metrics import RATE_LIMIT_HITS

logger = logging.getLogger(__name__)


class RateThrottle(SimpleRateThrottle):
    """A SimpleRateThrottle whose rate is read at use and may be written like CHAT_RATE_LIMIT.

    Subclasses set ``scope`` and implement ``ident(request)`` (None: not this throttle's
    request). A scope with no rate configured does not limit.
    """

    def get_rate(self):
        # Read when used, not frozen into the class at import (DRF's default), so a changed
        # REST_FRAMEWORK setting (tests, reloads) takes effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def parse_rate(self, rate):
        """Return (count, seconds); accepts '600/min' and windows such as '20/10s'."""
        if rate is None:
            return None, None
        parsed = parse_rate(rate)
        return parsed.count, int(parsed.seconds)

    def ident(self, request) -> str | None:
        raise NotImplementedError

    def get_cache_key(self, request, view):
        ident = self.ident(request)
        if ident is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view):
        self._request = request
        return super().allow_request(request, view)

    def throttle_failure(self):
        RATE_LIMIT_HITS.labels(self.scope).inc()
        # INFO: a client over its budget is the client's business, not an operator's.
        logger.info("Throttled (%s) for %s", self.scope, client_ip(self._request))
        return super().throttle_failure()


def _per_ip(request) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active and user.is_staff:
        return False
    # An API key has its own budget (by key, wherever it is used from); its credential
    # object carries ``scopes``. Imported by duck type: supportdesk imports no app.
    return getattr(getattr(request, "auth", None), "scopes", None) is None


class AnonIpThrottle(RateThrottle):
    """ANON_IP_RATE requests per client IP, for every request but API keys' and staff's."""

    scope = "anon_ip"

    def ident(self, request) -> str | None:
        return client_ip(request) if _per_ip(request) else None
