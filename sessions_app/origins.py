"""Exact web-origin parsing and matching for the widget's allowed origins."""

from __future__ import annotations

from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_origin(text: str) -> str | None:
    """Return ``scheme://host[:port]`` (lower-case, default port dropped) or None if not an origin.

    Only an exact origin is accepted: no path, query, fragment, credentials or wildcard, so
    "https://shop.example.com.evil.test" can never match "https://shop.example.com".
    """
    text = (text or "").strip()
    if not text or len(text) > 300 or "*" in text:
        return None
    try:
        parsed = urlsplit(text)
        port = parsed.port
    except ValueError:
        return None
    if parsed.scheme not in _DEFAULT_PORTS or not parsed.hostname:
        return None
    if parsed.username or parsed.password or parsed.query or parsed.fragment:
        return None
    if parsed.path not in ("", "/"):
        return None
    host = parsed.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[parsed.scheme]:
        return f"{parsed.scheme}://{host}"
    return f"{parsed.scheme}://{host}:{port}"
