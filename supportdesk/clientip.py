"""The client's IP address: the TCP peer, or what a trusted proxy says in X-Forwarded-For.

One helper for every throttle, the login lockout (django-axes) and the logs. A client can put
anything in ``X-Forwarded-For``, so the header is read only when the peer itself is one of
``TRUSTED_PROXIES`` (IPs or CIDRs), and then from the right: the first hop that is not a
trusted proxy is the client. With no trusted proxy configured (the default, and what a Daphne
without a proxy in front needs) the header is ignored entirely.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

from supportdesk.conf import app_setting

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "0.0.0.0"  # noqa: S104 (a placeholder address, never bound)


@functools.lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    # Cached by the setting's value, so a test's override_settings is honoured.
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry)


def trusted_networks() -> tuple[Network, ...]:
    """Return the TRUSTED_PROXIES setting parsed into networks (empty: trust no proxy)."""
    value = app_setting("TRUSTED_PROXIES")
    if isinstance(value, str):
        value = value.split(",")
    return _networks(tuple(str(entry).strip() for entry in value))


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[::1]:1234"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "1.2.3.4:5678"
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # An IPv4 client seen through a dual-stack socket counts as its IPv4 address.
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def resolve_client_ip(peer: str | None, forwarded_for: Iterable[str] = ()) -> str:
    """Return the client address given the TCP peer and the X-Forwarded-For header values."""
    current = _parse(peer or "")
    if current is None:
        return peer or UNKNOWN
    networks = trusted_networks()
    if not networks:
        return str(current)
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    # Walk back from the peer: each trusted proxy vouches for the hop it appended.
    while any(current in network for network in networks) and hops:
        previous = _parse(hops.pop())
        if previous is None:
            break  # garbage a trusted proxy passed on: stop at the last address we trust
        current = previous
    return str(current)


def client_ip(request) -> str:
    """Return the client address of a Django request (cached on the request)."""
    cached = getattr(request, "_supportdesk_client_ip", None)
    if cached is None:
        header = request.META.get("HTTP_X_FORWARDED_FOR", "")
        cached = resolve_client_ip(request.META.get("REMOTE_ADDR"), [header] if header else [])
        request._supportdesk_client_ip = cached
    return cached


def scope_client_ip(scope: dict) -> str:
    """Return the client address of an ASGI scope (WebSocket or HTTP)."""
    peer = (scope.get("client") or [None])[0]
    forwarded = [
        value.decode("latin-1")
        for name, value in scope.get("headers") or ()
        if name.lower() == b"x-forwarded-for"
    ]
    return resolve_client_ip(peer, forwarded)
