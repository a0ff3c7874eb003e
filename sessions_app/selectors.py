"""Read-side queries and permission-checked fetches for support sessions."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from .exceptions import InvalidSessionId, SessionNotFound, SessionTokenInvalid, UnknownSite
from .models import Contact, SessionEvent, SupportSession, Website


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


def session_get(*, session_id: object, related: bool = True) -> SupportSession:
    """Return the session by id (validated first) or raise SessionNotFound.

    ``related=False`` skips the assignee, contact and team: a caller that needs only the
    session's own fields (the hot message reads and writes) saves the joins and their SQL.
    """
    parsed = parse_session_id(session_id)
    queryset = SupportSession.objects.all()
    if related:
        queryset = queryset.select_related("assignee", "contact", "team")
    try:
        return queryset.get(pk=parsed)
    except SupportSession.DoesNotExist:
        raise SessionNotFound() from None


def session_for_customer(
    *, session_id: object, token: str | None, related: bool = True
) -> SupportSession:
    """Return the session if ``token`` is its customer token; the one rule REST and WS share.

    Raises InvalidSessionId, SessionNotFound, or SessionTokenInvalid (a wrong token).
    """
    session = session_get(session_id=session_id, related=related)
    if not token or not hmac.compare_digest(session.token_hash, token_hash(token)):
        raise SessionTokenInvalid()
    return session


# The longest search text accepted: a search is a few words, never a paragraph.
SEARCH_MAX_CHARS = 100
# The orderings the list offers (the default first); each is served by an index.
SESSION_ORDERINGS = ("-last_activity_at", "last_activity_at", "-created_at", "created_at")
# The text-search configuration the message index (chat migration 0003) is built with.
SEARCH_CONFIG = "simple"


def _message_model():
    # chat's Message, reached through the relation: sessions_app never imports chat.
    return SupportSession._meta.get_field("messages").related_model


def search_q(text: str) -> Q:
    """Return a condition matching the customer's name or email, or any message's text."""
    message = _message_model()
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        # Full-text on PostgreSQL, served by the GIN index on this very expression.
        matches = message.objects.annotate(
            document=SearchVector("content", config=SEARCH_CONFIG)
        ).filter(
            document=SearchQuery(text, config=SEARCH_CONFIG, search_type="websearch"),
            session=OuterRef("pk"),
        )
    else:
        matches = message.objects.filter(session=OuterRef("pk"), content__icontains=text)
    return Q(customer_name__icontains=text) | Q(customer_email__icontains=text) | Exists(matches)


def sessions_list(
    *,
    status: str | None = None,
    handled_by: str | None = None,
    assignee: int | str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    search: str | None = None,
    contact: uuid.UUID | None = None,
    label: str | None = None,
    priority: str | None = None,
    snoozed: bool | None = None,
    ordering: str = SESSION_ORDERINGS[0],
) -> QuerySet:
    """Return sessions, filtered, most recently active first unless ``ordering`` says otherwise.

    ``contact`` is a Contact id; ``assignee`` is a user id or ``"none"`` (unassigned);
    ``search`` matches the customer's name or email and the text of the session's messages
    (at most SEARCH_MAX_CHARS); ``label`` is a label's name (any case), ``priority`` one of
    none/low/high/urgent, ``snoozed`` true/false for snoozed or not.
    """
    if ordering not in SESSION_ORDERINGS:
        raise ValueError(f"unknown ordering {ordering!r}")
    queryset = SupportSession.objects.select_related(
        "assignee", "contact", "team"
    ).prefetch_related("labels")
    if label:
        # Exists, not a join: a join would repeat a session once per matching label row.
        queryset = queryset.filter(
            Exists(
                SupportSession.labels.through.objects.filter(
                    supportsession_id=OuterRef("pk"), label__name__iexact=label
                )
            )
        )
    if priority:
        queryset = queryset.filter(priority=priority)
    if snoozed is not None:
        queryset = queryset.filter(snoozed_until__isnull=not snoozed)
    if status:
        queryset = queryset.filter(status=status)
    if handled_by:
        queryset = queryset.filter(handled_by=handled_by)
    if assignee == "none":
        queryset = queryset.filter(assignee__isnull=True)
    elif assignee is not None:
        queryset = queryset.filter(assignee_id=assignee)
    if created_after is not None:
        queryset = queryset.filter(created_at__gte=created_after)
    if created_before is not None:
        queryset = queryset.filter(created_at__lt=created_before)
    if contact is not None:
        queryset = queryset.filter(contact_id=contact)
    if search:
        queryset = queryset.filter(search_q(search[:SEARCH_MAX_CHARS]))
    # pk breaks ties, so a page boundary never repeats or skips a session.
    return queryset.order_by(ordering, "-pk" if ordering.startswith("-") else "pk")


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
        .select_related("assignee", "contact", "team")
        .prefetch_related("labels")
        .order_by("-created_at")
    )


# A session's audit trail is short (a few changes per conversation); this bounds a pathological one.
SESSION_EVENTS_LIMIT = 200


def session_events(*, session_id: uuid.UUID) -> list:
    """Return the session's audit trail, oldest first (at most SESSION_EVENTS_LIMIT rows)."""
    return list(SessionEvent.objects.filter(session_id=session_id)[:SESSION_EVENTS_LIMIT])
