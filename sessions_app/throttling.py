"""DRF throttle per customer token: CUSTOMER_TOKEN_RATE requests per `Session <token>`."""

from __future__ import annotations

import hashlib

from supportdesk.throttling import RateThrottle

from .authentication import CustomerToken


class CustomerTokenThrottle(RateThrottle):
    """CUSTOMER_TOKEN_RATE requests per customer token (all addresses together)."""

    scope = "customer_token"

    def ident(self, request) -> str | None:
        auth = getattr(request, "auth", None)
        if not isinstance(auth, CustomerToken):
            return None
        # The cache key holds a digest, never the customer's secret itself.
        return hashlib.sha256(auth.token.encode()).hexdigest()[:32]
