"""DRF throttle per API key: API_KEY_RATE requests per key, whoever holds it."""

from __future__ import annotations

from supportdesk.throttling import RateThrottle

from .authentication import ApiKeyCredential


class ApiKeyThrottle(RateThrottle):
    """API_KEY_RATE requests per API key (all addresses together)."""

    scope = "api_key"

    def ident(self, request) -> str | None:
        auth = getattr(request, "auth", None)
        return str(auth.key_id) if isinstance(auth, ApiKeyCredential) else None
