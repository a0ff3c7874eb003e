"""API key services: create (returning the key once), revoke, record use."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import ApiKey, Scope

KEY_PREFIX = "sd"
# How often last_used_at may be written per key: a busy key must not cost a write per request.
TOUCH_EVERY = timedelta(minutes=1)


class InvalidScopes(ValueError):
    """Raised for an empty scope list or an unknown scope."""


@dataclass(frozen=True)
class CreatedKey:
    api_key: ApiKey
    key: str  # the full secret: shown to the creator once, never stored


def key_hash(key: str) -> str:
    """Return the stored hash of a full key (SHA-256 hex)."""
    # A fast hash is right here: the key has 256 bits of randomness, so there is nothing to
    # brute-force (slow hashes such as PBKDF2 protect low-entropy passwords), and it keeps
    # authentication at one indexed SELECT plus one SHA-256 per request.
    return hashlib.sha256(key.encode()).hexdigest()


def scopes_clean(scopes) -> list[str]:
    """Return the scopes de-duplicated in a fixed order; raise InvalidScopes if any is unknown."""
    values = [str(scope).strip() for scope in scopes or () if str(scope).strip()]
    unknown = sorted(set(values) - set(Scope.values))
    if unknown:
        raise InvalidScopes(f"unknown scope(s) {', '.join(unknown)}; known: read, write, ops")
    if not values:
        raise InvalidScopes("a key needs at least one scope (read, write, ops)")
    return [scope for scope in Scope.values if scope in values]


@transaction.atomic
def api_key_create(*, name: str, scopes, created_by=None) -> CreatedKey:
    """Create a key with ``scopes``; return it with the full key, which is not stored."""
    cleaned = scopes_clean(scopes)
    prefix = secrets.token_hex(6)
    while ApiKey.objects.filter(prefix=prefix).exists():  # 48 bits: practically never
        prefix = secrets.token_hex(6)
    key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        name=name, prefix=prefix, key_hash=key_hash(key), scopes=cleaned, created_by=created_by
    )
    return CreatedKey(api_key=api_key, key=key)


def api_key_revoke(*, api_key_id: int) -> bool:
    """Revoke a key (idempotent); return whether it was active until now."""
    return bool(
        ApiKey.objects.filter(pk=api_key_id, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    )


def api_key_touch(*, api_key: ApiKey) -> None:
    """Record that ``api_key`` was used now, at most once per TOUCH_EVERY."""
    now = timezone.now()
    if api_key.last_used_at is not None and now - api_key.last_used_at < TOUCH_EVERY:
        return
    # Conditional UPDATE: of concurrent requests on a stale row only one writes.
    ApiKey.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOUCH_EVERY), pk=api_key.pk
    ).update(last_used_at=now)
