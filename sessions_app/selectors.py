"""Read-side queries and permission-checked fetches for support sessions."""

from __future__ import annotations

import hashlib
import hmac
import uuid

from django.db.models import Q, QuerySet

from .exceptions import InvalidSessionId, SessionNotFound, SessionTokenInvalid, UnknownSite
from .models import Contact, SupportSession, Website


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
        return SupportSession.objects.select_related("assignee", "contact").get(pk=parsed)
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
    queryset = SupportSession.objects.select_related("assignee", "contact")
    if status:
        queryset = queryset.filter(status=status)
    if handled_by:
        queryset = queryset.filter(handled_by=handled_by)
    return queryset.order_by("-last_activity_at")


def website_by_key(*, site_key: object) -> Website:
    """Return the website with this public site key or raise UnknownSite."""
    if not isinstance(site_key, str) or not 1 <= len(site_key) <= 40:
        raise UnknownSite()
    try:
        return Website.objects.get(site_key=site_key)
    except Website.DoesNotExist:
        raise UnknownSite() from None


def website_allows_socket_origin(*, session_id: object, origin: str) -> bool:
    """Return whether ``origin`` is an allowed origin of the website this session came from."""
    try:
        parsed = parse_session_id(session_id)
    except InvalidSessionId:
        return False
    website = Website.objects.filter(sessions__pk=parsed).first()
    return website is not None and website.allows_origin(origin)


def contacts_list(*, website: str | None = None, search: str | None = None) -> QuerySet:
    """Return contacts, newest first, optionally of one site (by site key) or matching text."""
    queryset = Contact.objects.select_related("website")
    if website:
        queryset = queryset.filter(website__site_key=website)
    if search:
        queryset = queryset.filter(
            Q(name__icontains=search) | Q(email__icontains=search) | Q(external_id=search)
        )
    return queryset.order_by("-created_at")


def contact_get(*, contact_id: object) -> Contact | None:
    """Return the contact by id, or None for an unknown or malformed id."""
    try:
        parsed = uuid.UUID(str(contact_id))
    except ValueError:
        return None
    return Contact.objects.select_related("website").filter(pk=parsed).first()


def contact_sessions(*, contact: Contact) -> QuerySet:
    """Return the contact's sessions, most recent first."""
    return (
        SupportSession.objects.filter(contact=contact)
        .select_related("assignee", "contact")
        .order_by("-created_at")
    )
