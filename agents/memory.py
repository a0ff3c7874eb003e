"""Conversation memory: the earlier turns of a session, and follow-up questions resolved by them."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from chat.models import Message, MessageRole


@dataclass(frozen=True)
class Turn:
    role: str
    content: str
    metadata: dict = field(default_factory=dict)


def conversation_recall(*, session_id: uuid.UUID, before_seq: int, limit: int = 8) -> list[Turn]:
    """Return up to ``limit`` visible turns before ``before_seq``, oldest first."""
    rows = (
        Message.objects.filter(session_id=session_id, seq__lt=before_seq, internal=False)
        .order_by("-seq")
        .values_list("role", "content", "metadata")[:limit]
    )
    return [
        Turn(role=role, content=content, metadata=metadata or {})
        for role, content, metadata in reversed(list(rows))
    ]


# Openers and references that only make sense with the previous question in mind:
# "and how long does that take?", "what about for it?", "how much is it?".
_FOLLOW_UP = re.compile(
    r"""
    ^\s*(?:and|also|but|so|what\s+about|how\s+about|what\s+if|then)\b
    |\b(?:that|it|this|those|these|they|them|there)\b
    """,
    re.IGNORECASE | re.VERBOSE,
)
_FOLLOW_UP_MAX_WORDS = 9


def is_follow_up(text: str) -> bool:
    """Return whether a short message leans on the previous question."""
    words = re.findall(r"\w+", text)
    return 0 < len(words) <= _FOLLOW_UP_MAX_WORDS and bool(_FOLLOW_UP.search(text))


def previous_customer_question(history: list[Turn]) -> str | None:
    """Return the customer's most recent earlier message, if any."""
    for turn in reversed(history):
        if turn.role == MessageRole.CUSTOMER:
            return turn.content
    return None


def previous_agent_reply(history: list[Turn]) -> str | None:
    """Return the assistant's most recent message, if any (so it is not said twice)."""
    for turn in reversed(history):
        if turn.role == MessageRole.ASSISTANT:
            return turn.content
    return None


def unhelpful_streak(history: list[Turn]) -> int:
    """Count the assistant's most recent consecutive turns that did not help.

    Those are clarifying questions (the decision's failed tries), low-confidence replies and
    answers to "that didn't help"; a decline, small talk or a confident answer ends the run.
    """
    streak = 0
    for turn in reversed(history):
        if turn.role != MessageRole.ASSISTANT:
            continue
        if (
            turn.metadata.get("decision") == "clarify"
            or "low_confidence" in turn.metadata.get("reasons", [])
            or turn.metadata.get("unhelpful_feedback")
        ):
            streak += 1
        else:
            break
    return streak
