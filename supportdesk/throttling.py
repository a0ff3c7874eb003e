"""DRF throttles shared by the apps: rates read from settings when used, hits counted, IP limit.

An API key's requests count against that key (``apikeys.throttling``). Every other request
counts against its client IP (``AnonIpThrottle``), and a customer token's requests also
against that token (``sessions_app.throttling``): the IP budget stops a client that invents
a new token per request, the token budget a client that spreads one token over many
addresses. Signed-in active staff users are not throttled: they are identified people whose
access is revoked by deactivating them. A refused request is a
429 in the error shape with ``Retry-After`` and counts in ``RATE_LIMIT_HITS`` by scope.

On Redis each check is one atomic script (a sliding log in a sorted set), and all of a
request's throttles are checked in one round trip: DRF's own read-then-write of a cached list
let a burst of concurrent requests all read the same history and pass together, and cost two
round trips per throttle. Other caches (embedded mode's
local memory, one process) keep DRF's implementation.
"""

from __future__ import annotations

import logging
import math
import uuid

from redis.exceptions import RedisError
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from .clientip import client_ip
from .conf import parse_rate
from .metrics import RATE_LIMIT_HITS

logger = logging.getLogger(__name__)
# Cache outages are reported on one logger (django-redis' too: DJANGO_REDIS_LOGGER).
cache_logger = logging.getLogger("supportdesk.cache")

# One round trip for every throttle of a request. KEYS: the logs; ARGV[1]: now (s), then per
# key its window (s), limit and a unique member. Per key: "ok" when the request is admitted
# (and logged), else the oldest admitted time in its window.
_SLIDING_LOGS = """
local now = tonumber(ARGV[1])
local verdicts = {}
for i, key in ipairs(KEYS) do
  local window, limit = tonumber(ARGV[i * 3 - 1]), tonumber(ARGV[i * 3])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) < limit then
    redis.call('ZADD', key, now, ARGV[i * 3 + 1])
    redis.call('PEXPIRE', key, math.ceil(window * 1000) + 1000)
    verdicts[i] = 'ok'
  else
    verdicts[i] = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2]
  end
end
return verdicts
"""


def _redis_client(cache):
    """Return the raw Redis client behind a django-redis cache, or None for other caches."""
    get_client = getattr(getattr(cache, "client", None), "get_client", None)
    if get_client is None:
        return None
    return get_client(write=True)


def _verdicts(request, view, client) -> dict:
    """Check every Redis-backed throttle of ``view`` for ``request`` in one round trip, once.

    DRF asks each throttle in turn (an IP and a customer token: two round trips per request, a
    sixth of a message read's time); the first to ask checks them all and keeps the verdicts
    on the request for the others. Each key is still its own sliding log, admitted or refused
    on its own exactly as before.
    """
    verdicts = getattr(request, "_throttle_verdicts", None)
    if verdicts is None:
        throttles = []
        for throttle in getattr(view, "get_throttles", list)():
            if isinstance(throttle, RateThrottle) and throttle.rate is not None:
                throttle.key = throttle.get_cache_key(request, view)
                if throttle.key is not None:
                    throttles.append(throttle)
        verdicts = request._throttle_verdicts = _check(client, throttles)
    return verdicts


def _check(client, throttles: list[RateThrottle]) -> dict:
    """Return {cache key: (now, "ok" or the oldest admitted time)} for ``throttles``."""
    if not throttles:
        return {}
    now = throttles[0].timer()
    args: list = [repr(now)]
    for throttle in throttles:
        args += [throttle.duration, throttle.num_requests, f"{now!r}:{uuid.uuid4().hex[:12]}"]
    keys = [throttle.cache.make_key(throttle.key) for throttle in throttles]
    try:
        answers = client.eval(_SLIDING_LOGS, len(keys), *keys, *args)
    except RedisError:
        # Fail open, like every other cache use here: an outage must not refuse traffic.
        scopes = ", ".join(throttle.scope for throttle in throttles)
        cache_logger.warning("Throttle %s not checked: the cache is unavailable", scopes)
        answers = ["ok"] * len(throttles)
    return {
        throttle.key: (now, answer.decode() if isinstance(answer, bytes) else answer)
        for throttle, answer in zip(throttles, answers, strict=True)
    }


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
        if self.rate is None:
            return True
        client = _redis_client(self.cache)
        if client is None:
            return super().allow_request(request, view)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        verdicts = _verdicts(request, view, client)
        if self.key not in verdicts:  # not one of the view's throttles: checked on its own
            verdicts.update(_check(client, [self]))
        self.now, verdict = verdicts[self.key]
        if verdict == "ok":
            return True
        self._oldest = float(verdict)
        return self.throttle_failure()

    def wait(self):
        oldest = getattr(self, "_oldest", None)
        if oldest is None:
            return super().wait()
        return max(1, math.ceil(self.duration - (self.now - oldest)))

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
