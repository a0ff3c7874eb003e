"""WebSocket Origin check, refusing a foreign or `null` origin before the socket is accepted.

Channels' AllowedHostsOriginValidator accepts every origin when ALLOWED_HOSTS holds "*", and
Daphne lets `Origin: null` through; this validator does neither.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

logger = logging.getLogger(__name__)


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def origin_allowed(origin: str | None, host: str | None) -> bool:
    """Return whether a WebSocket handshake with this Origin may proceed."""
    if origin is None:
        # Browsers always send Origin; a client without one is not a browser and so cannot
        # be a victim of cross-site WebSocket hijacking. It still has to authenticate.
        return True
    if origin.strip().lower() == "null":
        return False
    parsed = urlsplit(origin)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return False
    if origin.rstrip("/") in {o.rstrip("/") for o in settings.CSRF_TRUSTED_ORIGINS}:
        return True
    origin_host, _ = split_domain_port(parsed.netloc)
    # Same origin as the page that served the socket is always fine.
    if host and parsed.netloc.lower() == host.lower():
        return True
    patterns = [h for h in settings.ALLOWED_HOSTS if h != "*"]
    return bool(origin_host) and validate_host(origin_host, patterns)


class WebsocketOriginValidator:
    """ASGI middleware: deny the handshake (HTTP 403) for a disallowed Origin."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            origin = _header(scope, b"origin")
            if not origin_allowed(origin, _header(scope, b"host")):
                logger.info("WebSocket from origin %r refused", origin)
                denier = WebsocketDenier()
                return await denier(scope, receive, send)
        return await self.application(scope, receive, send)
