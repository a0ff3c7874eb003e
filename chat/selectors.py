"""Read-side queries for messages and live connections."""

from __future__ import annotations

import uuid

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, Substr

from sessions_app.models import (
    AgentProfile,
    AgentStatus,
    HandledBy,
    SessionStatus,
    SupportSession,
)
from sessions_app.serializers import user_display_name

from .models import Connection, ConnectionKind, Message, MessageRole


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


# The admin transcript shows at most this many messages (the newest), so a very long
# conversation still renders in one bounded query.
TRANSCRIPT_LIMIT = 500


def transcript_messages(*, session_id: uuid.UUID, limit: int = TRANSCRIPT_LIMIT) -> list[Message]:
    """Return a session's newest ``limit`` messages (internal notes included) in seq order."""
    newest = (
        Message.objects.filter(session_id=session_id)
        .select_related("author")
        .order_by("-seq")[:limit]
    )
    return list(reversed(newest))


# --- The agent console's inbox -----------------------------------------------------------------

INBOX_FILTERS = ("all", "mine", "team", "unassigned", "escalated", "ai", "closed", "snoozed")
INBOX_LIMIT = 100
_ANSWER_ROLES = (MessageRole.AGENT, MessageRole.ASSISTANT)


def inbox_sessions(
    *,
    user=None,
    filter_name: str = "all",
    search: str = "",
    label: str = "",
    priority: str = "",
) -> QuerySet:
    """Return sessions for the console inbox, annotated for their summary, in two queries.

    Escalated first (longest waiting first), then open, then closed; each row carries its
    last visible message, how many customer messages came after the last answer, and what
    ``waiting_since`` needs (chat.serializers.waiting_since). Snoozed sessions appear only
    under the "snoozed" filter; the labels are prefetched (the second query).
    """

    last_answer_seq = (
        Message.objects.filter(session=OuterRef("session"), role__in=_ANSWER_ROLES, internal=False)
        .order_by("-seq")
        .values("seq")[:1]
    )
    unanswered = (
        Message.objects.filter(
            session=OuterRef("pk"),
            role=MessageRole.CUSTOMER,
            seq__gt=Coalesce(Subquery(last_answer_seq), 0),
        )
        .order_by()
        .values("session")
        .annotate(count=Count("pk"))
        .values("count")
    )
    last_message = Message.objects.filter(session=OuterRef("pk"), internal=False).order_by("-seq")

    def first_customer_after(last_seq):
        return (
            Message.objects.filter(
                session=OuterRef("pk"),
                role=MessageRole.CUSTOMER,
                seq__gt=Coalesce(Subquery(last_seq.values("seq")[:1]), 0),
            )
            .order_by("seq")
            .values("created_at")[:1]
        )

    last_human_reply = Message.objects.filter(
        session=OuterRef("pk"), role=MessageRole.AGENT, internal=False
    ).order_by("-seq")
    queryset = SupportSession.objects.select_related("assignee", "contact", "team").annotate(
        unanswered=Coalesce(Subquery(unanswered), 0),
        # The customer's oldest message after the last answer (AI or person) / person's reply.
        waiting_after_answer_at=Subquery(
            first_customer_after(
                Message.objects.filter(
                    session=OuterRef(OuterRef("pk")), role__in=_ANSWER_ROLES, internal=False
                ).order_by("-seq")
            )
        ),
        waiting_after_agent_at=Subquery(
            first_customer_after(
                Message.objects.filter(
                    session=OuterRef(OuterRef("pk")), role=MessageRole.AGENT, internal=False
                ).order_by("-seq")
            )
        ),
        last_agent_reply_at=Subquery(last_human_reply.values("created_at")[:1]),
        last_message_seq=Subquery(last_message.values("seq")[:1]),
        last_message_role=Subquery(last_message.values("role")[:1]),
        last_message_preview=Subquery(
            last_message.annotate(preview=Substr("content", 1, 140)).values("preview")[:1]
        ),
        last_message_at=Subquery(last_message.values("created_at")[:1]),
        status_rank=Case(
            When(status=SessionStatus.ESCALATED, then=Value(0)),
            When(status=SessionStatus.OPEN, then=Value(1)),
            default=Value(2),
        ),
    )
    queryset = queryset.prefetch_related("labels")
    # "any" (live updates, not a console filter): snoozed or not, the console decides.
    if filter_name == "snoozed":
        queryset = queryset.filter(snoozed_until__isnull=False)
    elif filter_name != "any":
        queryset = queryset.filter(snoozed_until__isnull=True)
    if label:
        queryset = queryset.filter(
            Exists(
                SupportSession.labels.through.objects.filter(
                    supportsession_id=OuterRef("pk"), label__name__iexact=label
                )
            )
        )
    if priority:
        queryset = queryset.filter(priority=priority)
    if filter_name == "mine" and user is not None:
        queryset = queryset.filter(assignee=user).exclude(status=SessionStatus.CLOSED)
    elif filter_name == "team" and user is not None:
        # "My team": the queues of the teams the agent belongs to, held or waiting.
        queryset = queryset.filter(team__members=user).exclude(status=SessionStatus.CLOSED)
    elif filter_name == "unassigned":
        queryset = queryset.filter(assignee__isnull=True).exclude(status=SessionStatus.CLOSED)
    elif filter_name == "escalated":
        queryset = queryset.filter(status=SessionStatus.ESCALATED)
    elif filter_name == "ai":
        queryset = queryset.filter(status=SessionStatus.OPEN, handled_by=HandledBy.AI)
    elif filter_name == "closed":
        queryset = queryset.filter(status=SessionStatus.CLOSED)
    search = (search or "").strip()
    if search:
        matching = Message.objects.filter(session=OuterRef("pk"), content__icontains=search)
        queryset = queryset.filter(
            Q(customer_name__icontains=search)
            | Q(customer_email__icontains=search)
            | Q(contact__name__icontains=search)
            | Q(contact__email__icontains=search)
            | Exists(matching)
        )
    return queryset.order_by(
        "status_rank", F("escalated_at").asc(nulls_last=True), "-last_activity_at"
    )


def inbox_session(*, session_id) -> SupportSession | None:
    """Return one session annotated like the inbox rows (for live updates), snoozed or not."""
    return inbox_sessions_by_id([session_id]).first()


def inbox_sessions_by_id(session_ids) -> QuerySet:
    """Return the given sessions annotated like the inbox rows (snoozed or not), in two queries."""
    return inbox_sessions(filter_name="any").filter(pk__in=list(session_ids))


def agents_online() -> list[dict]:
    """Return every staff user with whether they have a console socket open and are away."""
    online = set(
        Connection.objects.filter(kind=ConnectionKind.AGENT).values_list("user_id", flat=True)
    )
    away = set(
        AgentProfile.objects.filter(status=AgentStatus.AWAY).values_list("user_id", flat=True)
    )
    users = (
        get_user_model()
        .objects.filter(is_staff=True, is_active=True)
        .order_by("first_name", "username")
    )
    return [
        {"id": u.pk, "name": user_display_name(u), "online": u.pk in online, "away": u.pk in away}
        for u in users
    ]


# --- Operations -----------------------------------------------------------------------------


def connection_stats() -> dict[str, int]:
    """Return live socket counts by kind and how many sessions have a customer socket open.

    One aggregate query over the connection registry (one row per open socket), cheap enough
    for every /metrics scrape and the ops endpoint.
    """
    customer = Q(kind=ConnectionKind.CUSTOMER)
    counts = Connection.objects.aggregate(
        total_connections=Count("pk"),
        customer_connections=Count("pk", filter=customer),
        agent_connections=Count("pk", filter=Q(kind=ConnectionKind.AGENT)),
        active_sessions=Count("session_id", filter=customer, distinct=True),
    )
    return {name: int(value or 0) for name, value in counts.items()}


def sessions_unclosed_counts() -> dict[str, int]:
    """Return how many sessions are open and escalated (the status index bounds the scan)."""
    rows = (
        SupportSession.objects.filter(status__in=[SessionStatus.OPEN, SessionStatus.ESCALATED])
        .order_by()
        .values("status")
        .annotate(count=Count("pk"))
    )
    counts = {SessionStatus.OPEN.value: 0, SessionStatus.ESCALATED.value: 0}
    counts.update({row["status"]: row["count"] for row in rows})
    return counts
