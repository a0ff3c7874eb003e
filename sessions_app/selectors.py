"""Read-side queries and permission-checked fetches for support sessions."""

from __future__ import annotations

import hashlib
import hmac
import uuid

from django.db.models import QuerySet

from .exceptions import InvalidSessionId, SessionNotFound, SessionTokenInvalid
from .models import SupportSession


def token_hash(token: str) -> str:
    """Return the stored form of a customer token (sha256: the token is 256 random bits)."""
    return hashlib.sha256(token.encode()).hexdigest()


def parse_session_id(raw: object) -> uuid.UUID:
    """Return the UUID in ``raw`` or raise InvalidSessionId — before any database access.

    Clients have sent "undefined", "null" and "" as ids; they must never reach a query.
    """
    if isinstance(raw, uuid.UUID):
        return raw
    if not isinstance(raw, str) or not 32 <= len(raw) <= 36:
        raise InvalidSessionId()
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise InvalidSessionId() from None


def session_get(*, session_id: object) -> SupportSession:
    """Return the session by id (validated first) or raise SessionNotFound."""
    parsed = parse_session_id(session_id)
    try:
        return SupportSession.objects.select_related("assignee").get(pk=parsed)
    except SupportSession.DoesNotExist:
        raise SessionNotFound() from None


def session_for_customer(*, session_id: object, token: str | None) -> SupportSession:
    """Return the session if ``token`` is its customer token; the one rule REST and WS share.

    Raises InvalidSessionId, SessionNotFound, or SessionTokenInvalid (a wrong token).
    """
    session = session_get(session_id=session_id)
    if not token or not hmac.compare_digest(session.token_hash, token_hash(token)):
        raise SessionTokenInvalid()
    return session


def sessions_list(*, status: str | None = None, handled_by: str | None = None) -> QuerySet:
    """Return sessions, most recently active first, optionally filtered."""
    queryset = SupportSession.objects.select_related("assignee")
    if status:
        queryset = queryset.filter(status=status)
    if handled_by:
        queryset = queryset.filter(handled_by=handled_by)
    return queryset.order_by("-last_activity_at")
