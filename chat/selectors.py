"""Read-side queries for messages and live connections."""

from __future__ import annotations

import uuid

from django.db.models import Count, Q, QuerySet

from .models import Connection, ConnectionKind, Message


def messages_for_session(
    *, session_id: uuid.UUID, after_seq: int = 0, include_internal: bool = False
) -> QuerySet[Message]:
    """Return a session's messages with seq > after_seq, in seq order."""
    queryset = Message.objects.filter(session_id=session_id, seq__gt=after_seq)
    if not include_internal:
        queryset = queryset.filter(internal=False)
    return queryset.select_related("author").order_by("seq")


def messages_between(
    *, session_id: uuid.UUID, first_seq: int, last_seq: int, include_internal: bool = False
) -> list[Message]:
    """Return a session's messages with first_seq <= seq <= last_seq, in order."""
    return list(
        messages_for_session(
            session_id=session_id, after_seq=first_seq - 1, include_internal=include_internal
        ).filter(seq__lte=last_seq)
    )


def connection_stats() -> dict[str, int]:
    """Return counts of open sockets by kind and of sessions with a customer online."""
    counts = Connection.objects.aggregate(
        total=Count("pk"),
        customer=Count("pk", filter=Q(kind=ConnectionKind.CUSTOMER)),
        agent=Count("pk", filter=Q(kind=ConnectionKind.AGENT)),
        sessions=Count("session", distinct=True, filter=Q(kind=ConnectionKind.CUSTOMER)),
    )
    return {
        "total_connections": counts["total"],
        "customer_connections": counts["customer"],
        "agent_connections": counts["agent"],
        "active_sessions": counts["sessions"],
    }
