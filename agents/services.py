"""Agent services: schedule a reply, generate it through the pipeline, or fail gracefully."""

from __future__ import annotations

import logging
import uuid

from django.db import transaction

from chat.models import Message, MessageRole
from chat.services import message_create
from sessions_app.models import HandledBy, SessionStatus
from sessions_app.services import session_escalate
from supportdesk import realtime

from . import memory
from .pipeline import reply_compose

logger = logging.getLogger(__name__)

FAILURE_TEXT = (
    "Sorry — I couldn't put an answer together just now. I've passed your conversation to a "
    "member of our support team, who will reply here."
)


def reply_schedule(*, message_id: uuid.UUID) -> None:
    """Queue the agent's reply to a customer message (eager in embedded mode)."""
    from .tasks import agent_reply

    agent_reply.delay(str(message_id))


def _status(session_id: uuid.UUID, state: str) -> None:
    realtime.group_send(
        realtime.session_group(session_id), {"type": "agent.status", "state": state}
    )


def _should_answer(message: Message) -> bool:
    session = message.session
    return (
        message.role == MessageRole.CUSTOMER
        and session.status == SessionStatus.OPEN
        and session.handled_by == HandledBy.AI
    )


def reply_generate(*, message_id: uuid.UUID | str) -> Message | None:
    """Answer one customer message with the AI; idempotent (a message is answered once).

    Returns the stored reply, or None when the AI should not answer (a human took over,
    the session closed or escalated meanwhile).
    """
    message = Message.objects.select_related("session").get(pk=message_id)
    existing = Message.objects.filter(in_reply_to=message).first()
    if existing is not None:
        return existing
    if not _should_answer(message):
        return None
    session_id = message.session_id
    _status(session_id, "thinking")
    try:
        history = memory.conversation_recall(session_id=session_id, before_seq=message.seq)

        def stream(delta: str) -> None:
            realtime.group_send(
                realtime.session_group(session_id),
                {"type": "agent.stream", "reply_to": str(message.pk), "delta": delta},
            )

        reply = reply_compose(question=message.content, history=history, on_delta=stream)
        with transaction.atomic():
            result = message_create(
                session_id=session_id,
                role=MessageRole.ASSISTANT,
                content=reply.content,
                sources=reply.sources,
                confidence=reply.confidence,
                requires_escalation=reply.escalate,
                in_reply_to_id=message.pk,
                metadata={**reply.metadata, "provider": reply.provider},
            )
            if reply.escalate and result.created:
                session_escalate(session_id=session_id, reason=", ".join(reply.reasons))
        return result.message
    finally:
        _status(session_id, "idle")


def reply_fail(*, message_id: uuid.UUID | str, error: str) -> Message | None:
    """After the last retry: apologise, hand over to a person, never leave the customer waiting."""
    message = Message.objects.select_related("session").get(pk=message_id)
    with transaction.atomic():
        result = message_create(
            session_id=message.session_id,
            role=MessageRole.SYSTEM,
            content=FAILURE_TEXT,
            requires_escalation=True,
            in_reply_to_id=message.pk,
            metadata={"event": "agent_failed", "error": error[:500]},
        )
        if result.created and message.session.status == SessionStatus.OPEN:
            session_escalate(session_id=message.session_id, reason="agent_failed")
    _status(message.session_id, "idle")
    logger.error("Agent failed to answer message %s: %s", message_id, error)
    return result.message
