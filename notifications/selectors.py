"""Read side: recent human first-response times, whether the customer has the chat open."""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from chat.models import Connection, ConnectionKind, Message, MessageRole
from sessions_app.models import SupportSession
from supportdesk.conf import app_setting

# Hand-overs older than this say nothing about today's team: the query never looks further.
REPLY_TIME_LOOKBACK = timedelta(days=30)
_CACHE_KEY = "notifications:reply-time-median"


def first_response_times(*, now: datetime, limit: int) -> list[float]:
    """Return seconds from hand-over to the first human reply, latest ``limit`` hand-overs.

    Bounded twice: hand-overs of the last REPLY_TIME_LOOKBACK only, and ``limit`` rows.
    """
    first_reply = (
        Message.objects.filter(
            session=OuterRef("pk"),
            role=MessageRole.AGENT,
            internal=False,
            created_at__gte=OuterRef("escalated_at"),
        )
        .order_by("created_at")
        .values("created_at")[:1]
    )
    rows = (
        # Hand-overs only (session_escalate records a reason): an agent taking over an AI
        # conversation directly starts the clock as they answer, which would flatter the figure.
        SupportSession.objects.filter(
            escalated_at__gte=now - REPLY_TIME_LOOKBACK, metadata__has_key="escalation_reason"
        )
        .annotate(first_reply_at=Subquery(first_reply))
        .filter(first_reply_at__isnull=False)
        .order_by("-escalated_at")
        .values_list("escalated_at", "first_reply_at")[:limit]
    )
    return [max(0.0, (replied - escalated).total_seconds()) for escalated, replied in rows]


def typical_reply_seconds(*, now: datetime | None = None) -> float | None:
    """Return the median recent first-response time (cached), or None without any data."""
    cached = cache.get(_CACHE_KEY)
    if cached is not None:
        return cached if cached >= 0 else None
    times = first_response_times(
        now=now or timezone.now(), limit=int(app_setting("REPLY_TIME_SAMPLE"))
    )
    median = statistics.median(times) if times else None
    # -1 caches "no data" too, so an empty desk does not query on every hand-over.
    cache.set(
        _CACHE_KEY,
        -1.0 if median is None else median,
        timeout=float(app_setting("REPLY_TIME_CACHE_SECONDS")),
    )
    return median


def reply_time_cache_clear() -> None:
    """Forget the cached median (tests, or after importing history)."""
    cache.delete(_CACHE_KEY)


def customer_present(*, session_id) -> bool:
    """Return whether the customer has a socket open on the session (a Connection row)."""
    return Connection.objects.filter(session_id=session_id, kind=ConnectionKind.CUSTOMER).exists()


def transcript_messages(*, session_id, limit: int = 1000) -> list[Message]:
    """Return the messages the customer saw (no internal notes), in seq order, bounded."""
    return list(
        Message.objects.filter(session_id=session_id, internal=False)
        .select_related("author")
        .order_by("seq")[:limit]
    )
