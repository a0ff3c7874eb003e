"""State changes of a support session; every entry point (REST, sockets, admin, tasks) calls these.

Each change locks the session row, writes, adds a timeline system message, and broadcasts a
`session` event to the session's sockets and the agents' inbox only after commit.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from supportdesk import realtime
from supportdesk.metrics import HANDOVERS

from .exceptions import (
    AlreadyAssigned,
    AlreadyRated,
    InvalidTransition,
    SessionClosed,
    SessionNotFound,
)
from .models import HandledBy, SessionStatus, SupportSession
from .selectors import token_hash
from .serializers import session_payload, user_display_name
from .signals import (
    csat_submitted,
    send_after_commit,
    session_assigned,
    session_closed,
    session_created,
    session_escalated,
    timeline_note_requested,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OpenedSession:
    session: SupportSession
    token: str  # the customer's secret: returned once, never stored in clear


def session_open(
    *, customer_name: str = "", customer_email: str = "", metadata: dict | None = None
) -> OpenedSession:
    """Create a session and its customer token."""
    token = secrets.token_urlsafe(32)
    session = SupportSession.objects.create(
        customer_name=customer_name,
        customer_email=customer_email,
        token_hash=token_hash(token),
        metadata=metadata or {},
    )
    transaction.on_commit(lambda: _broadcast(session.pk))
    send_after_commit(session_created, session_id=session.pk)
    logger.info("Session %s opened", session.pk)
    return OpenedSession(session=session, token=token)


def _locked(session_id: uuid.UUID | str) -> SupportSession:
    try:
        return SupportSession.objects.select_for_update().get(pk=session_id)
    except SupportSession.DoesNotExist:
        raise SessionNotFound() from None


def _timeline(
    session: SupportSession,
    text: str,
    *,
    event: str,
    actor=None,
    api_key_name: str | None = None,
) -> None:
    # chat stores the note through its one message path, in this transaction; sessions_app
    # asks through a signal because it must not import chat (chat depends on it). An API
    # key's action has no author (actor=None): the key's name in metadata says who did it.
    metadata = {"event": event, **({"api_key": api_key_name} if api_key_name else {})}
    answered = timeline_note_requested.send(
        sender=SupportSession,
        session=session,
        text=text,
        event=event,
        actor=actor,
        metadata=metadata,
    )
    if not answered:
        logger.warning("No receiver stored the %s timeline note of session %s", event, session.pk)


def _broadcast(session_id: uuid.UUID) -> None:
    session = SupportSession.objects.select_related("assignee").get(pk=session_id)
    event = {"type": "session.updated", "session": session_payload(session)}
    realtime.group_send_many(
        [(realtime.session_group(session_id), event), (realtime.AGENTS_GROUP, event)]
    )


# Label values of HANDOVERS: the reasons code writes. Staff may type a free reason, which
# must not create a metric series per text, so anything else counts as "other".
_HANDOVER_REASONS = frozenset(
    {
        "low_confidence",
        "no_matching_article",
        "human_requested",
        "customer_upset",
        "repeated_unhelpful",
        "provider_failed",
        "provider_declined",
        "knowledge_index_unavailable",
        "agent_failed",
        "staff_request",
        "admin",
    }
)


def _reason_label(reason: str) -> str:
    first = (reason or "").split(",")[0].strip()
    return first if first in _HANDOVER_REASONS else "other"


@transaction.atomic
def session_escalate(
    *,
    session_id: uuid.UUID | str,
    reason: str,
    actor=None,
    api_key_name: str | None = None,
) -> SupportSession:
    """Hand an open session to the human queue; already escalated is a no-op."""
    session = _locked(session_id)
    if session.status == SessionStatus.CLOSED:
        raise SessionClosed()
    if session.status == SessionStatus.ESCALATED:
        return session
    session.status = SessionStatus.ESCALATED
    session.escalated_at = timezone.now()
    session.metadata = {**session.metadata, "escalation_reason": reason}
    session.save(update_fields=["status", "escalated_at", "metadata"])
    _timeline(
        session,
        "Conversation handed to the support team.",
        event="escalated",
        actor=actor,
        api_key_name=api_key_name,
    )
    transaction.on_commit(lambda: _broadcast(session.pk))
    transaction.on_commit(
        lambda: realtime.group_send(
            realtime.AGENTS_GROUP,
            {"type": "session.escalated", "session_id": str(session.pk), "reason": reason},
        )
    )
    # The first reason names the kind of hand-over ("low_confidence, …" → low_confidence).
    transaction.on_commit(lambda: HANDOVERS.labels(_reason_label(reason)).inc())
    send_after_commit(session_escalated, session_id=session.pk)
    logger.info("Session %s escalated: %s", session.pk, reason)
    return session


@transaction.atomic
def session_take_over(*, session_id: uuid.UUID | str, user) -> SupportSession:
    """Assign the session to ``user`` and stop the AI; a second agent gets AlreadyAssigned."""
    session = _locked(session_id)
    if session.status == SessionStatus.CLOSED:
        raise SessionClosed()
    if session.handled_by == HandledBy.HUMAN and session.assignee_id not in (None, user.pk):
        raise AlreadyAssigned()
    if session.handled_by == HandledBy.HUMAN and session.assignee_id == user.pk:
        return session
    session.handled_by = HandledBy.HUMAN
    session.assignee = user
    session.status = SessionStatus.ESCALATED
    session.escalated_at = session.escalated_at or timezone.now()
    session.save(update_fields=["handled_by", "assignee", "status", "escalated_at"])
    _timeline(
        session,
        f"{user_display_name(user)} joined the conversation.",
        event="taken_over",
        actor=user,
    )
    transaction.on_commit(lambda: _broadcast(session.pk))
    send_after_commit(session_assigned, session_id=session.pk)
    return session


@transaction.atomic
def session_assign(
    *,
    session_id: uuid.UUID | str,
    assignee,
    actor=None,
    api_key_name: str | None = None,
) -> SupportSession:
    """Give the session to another agent (a human keeps handling it)."""
    session = _locked(session_id)
    if session.status == SessionStatus.CLOSED:
        raise SessionClosed()
    if session.assignee_id == getattr(assignee, "pk", None):
        return session
    session.assignee = assignee
    session.handled_by = HandledBy.HUMAN
    session.status = SessionStatus.ESCALATED
    session.escalated_at = session.escalated_at or timezone.now()
    session.save(update_fields=["assignee", "handled_by", "status", "escalated_at"])
    _timeline(
        session,
        f"{user_display_name(assignee)} joined the conversation.",
        event="assigned",
        actor=actor,
        api_key_name=api_key_name,
    )
    transaction.on_commit(lambda: _broadcast(session.pk))
    send_after_commit(session_assigned, session_id=session.pk)
    return session


@transaction.atomic
def session_release(
    *, session_id: uuid.UUID | str, actor=None, api_key_name: str | None = None
) -> SupportSession:
    """Hand the session back to the AI assistant."""
    session = _locked(session_id)
    if session.status == SessionStatus.CLOSED:
        raise SessionClosed()
    if session.status == SessionStatus.OPEN and session.handled_by == HandledBy.AI:
        return session
    session.status = SessionStatus.OPEN
    session.handled_by = HandledBy.AI
    session.assignee = None
    session.escalated_at = None
    session.save(update_fields=["status", "handled_by", "assignee", "escalated_at"])
    _timeline(
        session,
        "You're chatting with our assistant again.",
        event="released",
        actor=actor,
        api_key_name=api_key_name,
    )
    transaction.on_commit(lambda: _broadcast(session.pk))
    return session


@transaction.atomic
def session_close(
    *, session_id: uuid.UUID | str, actor=None, api_key_name: str | None = None
) -> SupportSession:
    """Close the session; closing a closed session is a no-op."""
    session = _locked(session_id)
    if session.status == SessionStatus.CLOSED:
        return session
    session.status = SessionStatus.CLOSED
    session.closed_at = timezone.now()
    session.save(update_fields=["status", "closed_at"])
    _timeline(
        session,
        "This conversation has been closed. How did we do? Please rate it from 1 to 5.",
        event="closed",
        actor=actor,
        api_key_name=api_key_name,
    )
    transaction.on_commit(lambda: _broadcast(session.pk))
    send_after_commit(session_closed, session_id=session.pk)
    return session


@transaction.atomic
def session_reopen(*, session_id: uuid.UUID | str, actor=None) -> SupportSession:
    """Reopen a closed session; reopening one that is not closed is a no-op.

    The rule: a session a person was handling goes back to them as ``escalated`` (to the
    queue, unassigned, if they can no longer sign in); one the AI was handling goes back to
    ``open`` and the AI answers again. A rating already given stays.
    """
    session = _locked(session_id)
    if session.status != SessionStatus.CLOSED:
        return session
    session.closed_at = None
    if session.handled_by == HandledBy.HUMAN:
        session.status = SessionStatus.ESCALATED
        session.escalated_at = timezone.now()
        assignee = session.assignee
        if assignee is None or not (assignee.is_active and assignee.is_staff):
            session.assignee = None
            session.handled_by = HandledBy.AI  # escalated + ai: waiting in the human queue
    else:
        session.status = SessionStatus.OPEN
    session.save(update_fields=["status", "closed_at", "escalated_at", "assignee", "handled_by"])
    _timeline(session, "This conversation has been reopened.", event="reopened", actor=actor)
    transaction.on_commit(lambda: _broadcast(session.pk))
    logger.info("Session %s reopened as %s", session.pk, session.status)
    return session


@transaction.atomic
def session_rate(*, session_id: uuid.UUID | str, csat: int) -> SupportSession:
    """Store the customer's 1–5 rating of a closed session."""
    if not isinstance(csat, int) or isinstance(csat, bool) or not 1 <= csat <= 5:
        raise InvalidTransition("csat must be an integer from 1 to 5.")
    session = _locked(session_id)
    if session.status != SessionStatus.CLOSED:
        raise InvalidTransition("A session can be rated once it is closed.")
    if session.csat is not None:
        # Once: a rating is the customer's verdict on a finished conversation, and re-rating
        # without limit would let one customer skew the CSAT figures (and spam csat events).
        raise AlreadyRated()
    session.csat = csat
    session.save(update_fields=["csat"])
    transaction.on_commit(lambda: _broadcast(session.pk))
    send_after_commit(csat_submitted, session_id=session.pk, csat=csat)
    return session
