"""WebSocket Origin check, refusing a foreign or `null` origin before the socket is accepted.

Channels' AllowedHostsOriginValidator accepts every origin when ALLOWED_HOSTS holds "*", and
Daphne lets `Origin: null` through; this validator does neither.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

logger = logging.getLogger(__name__)


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


_DEFAULT_PORTS = {"http": 80, "https": 443}
# The page scheme that goes with the socket's scheme (ASGI scope "scheme").
_PAGE_SCHEME = {"ws": "http", "wss": "https", "http": "http", "https": "https"}


def _origin_tuple(origin: str) -> tuple[str, str, int] | None:
    """Return (scheme, host, port) of an http(s) origin, the port made explicit."""
    try:
        parsed = urlsplit(origin.strip())
        port = parsed.port
    except ValueError:
        return None
    if parsed.scheme not in _DEFAULT_PORTS or not parsed.hostname:
        return None
    return parsed.scheme, parsed.hostname.lower(), port or _DEFAULT_PORTS[parsed.scheme]


def origin_allowed(origin: str | None, host: str | None, scheme: str | None = None) -> bool:
    """Return whether a WebSocket handshake with this Origin may proceed.

    Allowed: the same origin as the socket (scheme when the server knows it, host AND port
    of the Host header, which must itself be in ALLOWED_HOSTS), or an exact entry of
    CSRF_TRUSTED_ORIGINS. ALLOWED_HOSTS patterns alone never admit an origin: they ignore
    the port, so a page on another port of the same host would get a staff socket.
    """
    if origin is None:
        # Browsers always send Origin; a client without one is not a browser and so cannot
        # be a victim of cross-site WebSocket hijacking. It still has to authenticate.
        return True
    if origin.strip().lower() == "null":
        return False
    wanted = _origin_tuple(origin)
    if wanted is None:
        return False
    trusted = {_origin_tuple(o) for o in settings.CSRF_TRUSTED_ORIGINS if "*" not in o}
    if wanted in trusted:
        return True
    if not host:
        return False
    host_name, host_port = split_domain_port(host.lower())
    if not host_name or not validate_host(host_name, settings.ALLOWED_HOSTS):
        return False
    origin_scheme, origin_host, origin_port = wanted
    page_scheme = _PAGE_SCHEME.get(scheme or "")
    if page_scheme is not None and page_scheme != origin_scheme:
        return False
    # No port in Host: the default port of the scheme the page was served with.
    expected_port = int(host_port) if host_port else _DEFAULT_PORTS[page_scheme or origin_scheme]
    # urlsplit's hostname has no IPv6 brackets; split_domain_port keeps them.
    return origin_host == host_name.strip("[]") and origin_port == expected_port


# Customer sockets only: the agent socket never admits another origin.
_CUSTOMER_SOCKET_PATH = re.compile(r"^/ws/sessions/(?P<session_id>[^/]+)/?$")
# Hooks (session_id, origin) -> bool that may admit a foreign origin for one customer socket.
# sessions_app registers the widget's: a site's allowed origins, for that site's sessions only
# (supportdesk sits below the apps, so they plug in here instead of being imported).
_customer_origin_hooks: list[Callable[[str, str], bool]] = []


def register_customer_origin_hook(hook: Callable[[str, str], bool]) -> None:
    """Let ``hook(session_id, origin)`` admit an otherwise foreign origin on a customer socket."""
    if hook not in _customer_origin_hooks:
        _customer_origin_hooks.append(hook)


def _customer_origin_admitted(session_id: str, origin: str) -> bool:
    return any(hook(session_id, origin) for hook in _customer_origin_hooks)


class WebsocketOriginValidator:
    """ASGI middleware: deny the handshake (HTTP 403) for a disallowed Origin."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            origin = _header(scope, b"origin")
            host = _header(scope, b"host")
            # Daphne names the scheme only behind trusted proxy headers; otherwise unknown.
            if not origin_allowed(origin, host, scope.get("scheme")) and not (
                await self._admitted_for_session(scope, origin)
            ):
                logger.info("WebSocket from origin %r refused", origin)
                denier = WebsocketDenier()
                return await denier(scope, receive, send)
        return await self.application(scope, receive, send)

    @staticmethod
    async def _admitted_for_session(scope, origin: str | None) -> bool:
        match = _CUSTOMER_SOCKET_PATH.match(scope.get("path", ""))
        if origin is None or match is None or not _customer_origin_hooks:
            return False
        if origin.strip().lower() == "null":
            return False
        return await database_sync_to_async(_customer_origin_admitted)(match["session_id"], origin)
