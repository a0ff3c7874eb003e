"""The per-message decision: answer, clarify, decline or hand over — pure, no database.

`message_triage` settles what needs no knowledge-base search (small talk, "are you still
there?", a language the knowledge base does not serve); `reply_decide` takes the search's
candidates and the conversation's count of failed tries. The pipeline (agents/pipeline.py)
runs both and only then asks the provider for an answer. docs/agent.md has the table.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from . import language, policy, smalltalk


class Action(StrEnum):
    ANSWER = "answer"  # from the top article, by the provider
    SMALLTALK = "smalltalk"  # a fixed friendly line, no article
    CLARIFY = "clarify"  # one question, or the closest articles to choose from
    DECLINE = "decline"  # outside the business or the served language; a person is offered
    HANDOVER = "handover"  # to the human queue


@dataclass(frozen=True)
class Suggestion:
    """A quick-reply button: pressing it sends ``text`` as the customer's next message."""

    label: str
    text: str
    article_id: int | None = None
    url: str | None = None
    action: str = "message"  # "message" | "handover"

    def as_dict(self) -> dict:
        return {
            "label": self.label,
            "text": self.text,
            "article_id": self.article_id,
            "url": self.url,
            "action": self.action,
        }


class Candidate(Protocol):
    article_id: int
    slug: str
    title: str
    score: float


TALK_TO_PERSON = Suggestion(
    label="Talk to a person", text="I'd like to talk to a person", action="handover"
)


@dataclass(frozen=True)
class Decision:
    action: Action
    reasons: list[str] = field(default_factory=list)
    # The words to send for every action but ANSWER (the provider writes those).
    content: str = ""
    kind: str = ""  # which flavour: greeting, presence, off_topic, language, choices, …
    suggestions: list[Suggestion] = field(default_factory=list)

    @property
    def escalate(self) -> bool:
        return self.action == Action.HANDOVER

    @property
    def failed_try(self) -> bool:
        """Whether this reply counts towards "a second failed try hands over"."""
        return self.action == Action.CLARIFY


# --- Wording ------------------------------------------------------------------------------

HANDOVER_TEXT = (
    "I'm not sure I have the right answer for that, so I'm passing your conversation to a "
    "member of our support team. They'll reply right here as soon as they can."
)
HUMAN_REQUESTED_TEXT = (
    "Of course — I'm connecting you with a member of our support team. They'll reply right "
    "here as soon as they can."
)
UPSET_TEXT = (
    "I'm sorry about this. I'm bringing in a member of our support team to sort it out with "
    "you; they'll reply right here as soon as they can."
)
SECOND_TRY_TEXT = (
    "Sorry, I still can't work out the right answer. I'm passing your conversation to a "
    "member of our support team; they'll reply right here as soon as they can."
)
CLARIFY_CHOICES_TEXT = (
    "I want to be sure I give you the right answer. Is your question about one of these?"
)
CLARIFY_ONE_CHOICE_TEXT = "I want to be sure I give you the right answer. Is it about this?"
CLARIFY_QUESTION_TEXT = (
    "Could you tell me a little more about what you need? For example, what happened and "
    "what you would like us to do."
)
CLARIFY_UNCLEAR_TEXT = (
    "Sorry, I didn't catch that. Could you tell me in a few words what you need help with?"
)
CLARIFY_UNHELPFUL_TEXT = (
    "Sorry that didn't help. Could you tell me a little more about what you're trying to do?"
)
CLARIFY_ORDER_TEXT = "Thanks! What would you like to do about order {order}?"
CLARIFY_REPEAT_TEXT = (
    "I've shared what I know about that just now. What's missing? Tell me a little more, "
    "or I can connect you with a person."
)
DECLINE_TEXTS = (
    "I'm afraid I can only help with questions about our products, services, orders and "
    "your account, so I can't answer that one. Is there anything else I can help with?",
    "That's outside what I can help with too, sorry. Ask me anything about your order, "
    "delivery, returns, payment or account — or talk to a person from our team.",
)
LANGUAGE_TEXT = (
    "Sorry, I can only help in English at the moment. You're welcome to write in English, "
    "or I can connect you with a person from our team."
)
# The same apology in the customer's language, shown first, so it is understood.
LANGUAGE_LOCAL = {
    "de": "Entschuldigung, ich kann im Moment nur auf Englisch helfen.",
    "fr": "Désolé, je ne peux répondre qu'en anglais pour le moment.",
    "es": "Lo siento, por ahora solo puedo ayudar en inglés.",
    "it": "Mi dispiace, al momento posso aiutare solo in inglese.",
    "nl": "Sorry, ik kan op dit moment alleen in het Engels helpen.",
    "pt": "Desculpe, no momento só posso ajudar em inglês.",
}

# Candidates at or above this share of the threshold are offered as quick replies when the
# agent is not sure enough to answer (below it they are noise: "asdfgh" still has a top 3).
CHOICE_FLOOR_SHARE = 0.125
MAX_CHOICES = 3
FAILED_TRIES_LIMIT = 2  # the second failed try hands over (issue #12)

_ORDER_NUMBER = re.compile(
    r"\border\b[^0-9.?!]{0,20}?#?\s*(\d{3,12})\b|#\s*(\d{3,12})\b", re.IGNORECASE
)


def help_url(slug: str) -> str:
    """Return the help-center page of an article (DESIGN: `/help/<slug>/`)."""
    return f"/help/{slug}/"


def _choices(candidates: Sequence[Candidate], threshold: float) -> list[Suggestion]:
    floor = threshold * CHOICE_FLOOR_SHARE
    return [
        Suggestion(label=c.title, text=c.title, article_id=c.article_id, url=help_url(c.slug))
        for c in candidates[:MAX_CHOICES]
        if c.score >= floor
    ]


def _smalltalk(kind: str, previous_reply: str | None) -> Decision:
    content = smalltalk.REPLIES[kind]
    if previous_reply is not None and content == previous_reply:
        content = smalltalk.REPLIES_AGAIN[kind]
    return Decision(Action.SMALLTALK, [], content, kind)


def message_triage(
    *, text: str, previous_reply: str | None = None, check_language: bool = True
) -> Decision | None:
    """Decide what needs no search: small talk, presence checks, an unserved language.

    None means: search the knowledge base and call ``reply_decide``.
    """
    kind = smalltalk.smalltalk_kind(text)
    if kind is not None:
        return _smalltalk(kind, previous_reply)
    foreign = language.foreign_language(text) if check_language else None
    if foreign is not None:
        local = LANGUAGE_LOCAL.get(foreign)
        content = f"{local} {LANGUAGE_TEXT}" if local else LANGUAGE_TEXT
        return Decision(
            Action.DECLINE, ["unsupported_language"], content, "language", [TALK_TO_PERSON]
        )
    return None


def reply_decide(
    *,
    text: str,
    candidates: Sequence[Candidate],
    threshold: float,
    failed_tries: int = 0,
    previous_reply: str | None = None,
) -> Decision:
    """Decide how to reply to ``text`` given the search's ``candidates`` (best first).

    ``candidates[0].score`` is the confidence that the top article answers it;
    ``failed_tries`` counts the agent's unhelpful turns just before (clarifications,
    low-confidence replies, "that didn't help"). ``previous_reply`` is the agent's last
    message, so that a decline is not said twice in the same words.
    """
    confidence = candidates[0].score if candidates else 0.0
    escalation = policy.escalation_decide(
        text=text,
        confidence=confidence,
        threshold=threshold,
        has_answer=bool(candidates),
        prior_unhelpful_turns=failed_tries,
    )
    reasons = list(escalation.reasons)
    if "human_requested" in reasons:
        return Decision(Action.HANDOVER, reasons, HUMAN_REQUESTED_TEXT, "human_requested")
    if "customer_upset" in reasons:
        return Decision(Action.HANDOVER, reasons, UPSET_TEXT, "customer_upset")
    if "repeated_unhelpful" in reasons:
        return Decision(Action.HANDOVER, reasons, SECOND_TRY_TEXT, "repeated_unhelpful")
    if not reasons:
        return Decision(Action.ANSWER, [], "", "answer")
    # Not confident enough to answer from an article.
    if smalltalk.is_off_topic(text):
        content = DECLINE_TEXTS[0]
        if previous_reply == content:
            content = DECLINE_TEXTS[1]
        return Decision(Action.DECLINE, ["off_topic"], content, "off_topic", [TALK_TO_PERSON])
    if failed_tries + 1 >= FAILED_TRIES_LIMIT:
        return Decision(
            Action.HANDOVER, [*reasons, "repeated_unclear"], SECOND_TRY_TEXT, "repeated_unclear"
        )
    choices = _choices(candidates, threshold)
    if smalltalk.is_gibberish(text):
        return Decision(
            Action.CLARIFY, [*reasons, "unclear"], CLARIFY_UNCLEAR_TEXT, "unclear", [TALK_TO_PERSON]
        )
    order = _ORDER_NUMBER.search(text)
    if order is not None:
        number = order.group(1) or order.group(2)
        return Decision(
            Action.CLARIFY,
            [*reasons, "clarify_order"],
            CLARIFY_ORDER_TEXT.format(order=number),
            "order",
            [*choices, TALK_TO_PERSON],
        )
    if policy.is_unhelpful_feedback(text):
        return Decision(
            Action.CLARIFY,
            [*reasons, "clarify"],
            CLARIFY_UNHELPFUL_TEXT,
            "unhelpful",
            [TALK_TO_PERSON],
        )
    if choices:
        content = CLARIFY_CHOICES_TEXT if len(choices) > 1 else CLARIFY_ONE_CHOICE_TEXT
        return Decision(
            Action.CLARIFY, [*reasons, "clarify"], content, "choices", [*choices, TALK_TO_PERSON]
        )
    return Decision(
        Action.CLARIFY, [*reasons, "clarify"], CLARIFY_QUESTION_TEXT, "question", [TALK_TO_PERSON]
    )


def repeat_avoid(
    *, decision: Decision, text: str, content: str, previous_reply: str | None
) -> Decision:
    """Turn an answer that repeats the agent's previous message word for word into a question.

    It counts as a failed try: the customer evidently still needs something else.
    """
    if decision.action != Action.ANSWER or previous_reply is None or content != previous_reply:
        return decision
    wording = CLARIFY_UNHELPFUL_TEXT if policy.is_unhelpful_feedback(text) else CLARIFY_REPEAT_TEXT
    return Decision(Action.CLARIFY, ["repeated_answer"], wording, "repeat", [TALK_TO_PERSON])
