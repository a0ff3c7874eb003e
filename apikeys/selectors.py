"""API key reads: find the active key a presented secret belongs to."""

from __future__ import annotations

import hmac
import re

from .models import ApiKey
from .services import KEY_PREFIX, key_hash

_KEY_RE = re.compile(rf"^{KEY_PREFIX}_([0-9a-f]{{12}})_([A-Za-z0-9_-]{{20,100}})$")


def key_prefix(key: str) -> str | None:
    """Return the public prefix of a well-formed key (safe to log), else None."""
    match = _KEY_RE.match(key)
    return match.group(1) if match else None


def api_key_for_secret(key: str) -> ApiKey | None:
    """Return the active key whose secret is ``key``, or None (malformed, unknown, revoked)."""
    match = _KEY_RE.match(key)
    if match is None:
        return None
    api_key = ApiKey.objects.filter(prefix=match.group(1), revoked_at__isnull=True).first()
    if api_key is None:
        return None
    # Constant-time: the comparison time says nothing about how much of the hash matched.
    if not hmac.compare_digest(api_key.key_hash, key_hash(key)):
        return None
    return api_key
