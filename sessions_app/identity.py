"""Signed user identity for the widget: HMAC-SHA256 of the user id with the site's secret."""

from __future__ import annotations

import hashlib
import hmac

from .exceptions import IdentityHashMissing, IdentityInvalid
from .models import Website

MAX_USER_ID_CHARS = 255


def identity_hash(*, secret: str, user_id: str) -> str:
    """Return hex HMAC-SHA256(secret, user_id): what the host site's backend computes."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def identity_verify(*, website: Website, user_id: str, user_hash: str | None) -> str:
    """Return ``user_id`` if ``user_hash`` signs it with the site's secret; raise otherwise.

    The comparison is constant-time; an id without a hash, or with a wrong one, is never
    trusted (IdentityHashMissing, IdentityInvalid).
    """
    if not user_hash:
        raise IdentityHashMissing()
    if not isinstance(user_hash, str) or len(user_hash) != 64:
        raise IdentityInvalid()
    expected = identity_hash(secret=website.identity_secret, user_id=user_id)
    if not hmac.compare_digest(expected.encode(), user_hash.strip().lower().encode()):
        raise IdentityInvalid()
    return user_id
