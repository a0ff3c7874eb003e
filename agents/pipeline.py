"""The agent pipeline: memory → knowledge-base search → escalation policy → provider reply."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from supportdesk.conf import app_setting

from . import memory, policy, smalltalk
from .encoder import encoder_enabled
from .knowledge import ArticleHit, KnowledgeIndexUnavailable, articles_search
from .models import article_url
from .providers import (
    DeltaCallback,
    ProviderDeclined,
    ProviderError,
    ReplyProvider,
    provider_get,
)
from .retrieval import default_confidence_threshold

logger = logging.getLogger(__name__)

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


@dataclass
class AgentReply:
    content: str
    sources: list[dict]
    confidence: float
    escalate: bool
    reasons: list[str]
    query: str
    provider: str
    metadata: dict = field(default_factory=dict)


def confidence_threshold() -> float:
    """Return the configured escalation threshold (the retrieval engine's tuned default)."""
    configured = app_setting("AGENT_CONFIDENCE_THRESHOLD")
    if configured is not None:
        return float(configured)
    return default_confidence_threshold(with_encoder=encoder_enabled())


def _search(question: str, history: list[memory.Turn]) -> tuple[str, list[ArticleHit], bool]:
    """Search with the question alone, or with the previous question for a follow-up."""
    hits = articles_search(question)
    previous = memory.previous_customer_question(history)
    if previous and memory.is_follow_up(question):
        combined = f"{previous} {question}"
        combined_hits = articles_search(combined)
        # Keep whichever reading the engine is surer of: "what about express?" alone is
        # vague, with "How long does delivery take?" before it it is not.
        if combined_hits and (not hits or combined_hits[0].score > hits[0].score):
            return combined, combined_hits, True
    return question, hits, False


def reply_compose(
    *,
    question: str,
    history: list[memory.Turn],
    provider: ReplyProvider | None = None,
    on_delta: DeltaCallback | None = None,
) -> AgentReply:
    """Decide how the AI answers ``question`` given the earlier turns ``history``."""
    started = time.perf_counter()
    kind = smalltalk.smalltalk_kind(question)
    if kind is not None:
        return AgentReply(
            content=smalltalk.REPLIES[kind],
            sources=[],
            confidence=1.0,
            escalate=False,
            reasons=[],
            query=question,
            provider="smalltalk",
            metadata={
                "smalltalk": kind,
                "reasons": [],
                "compute_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
    provider = provider or provider_get()
    try:
        query, hits, used_memory = _search(question, history)
        index_unavailable = False
    except KnowledgeIndexUnavailable:
        # Right after a deploy that changed the engine, until the worker has rebuilt the
        # index: a person answers rather than nobody.
        logger.warning("Knowledge index unavailable (rebuild queued); handing over")
        query, hits, used_memory, index_unavailable = question, [], False, True
    confidence = hits[0].score if hits else 0.0
    unhelpful_feedback = policy.is_unhelpful_feedback(question)
    decision = policy.escalation_decide(
        text=question,
        confidence=confidence,
        threshold=confidence_threshold(),
        has_answer=bool(hits),
        prior_unhelpful_turns=memory.unhelpful_streak(history),
    )
    if index_unavailable:
        decision = policy.EscalationDecision(True, ["knowledge_index_unavailable"])
    metadata = {
        "reasons": decision.reasons,
        "query": query,
        "used_memory": used_memory,
        "unhelpful_feedback": unhelpful_feedback,
        "candidates": [{"slug": h.slug, "score": round(h.score, 4)} for h in hits],
    }
    content = ""
    cited: list[ArticleHit] = []
    if decision.escalate:
        if "human_requested" in decision.reasons:
            content = HUMAN_REQUESTED_TEXT
        elif "customer_upset" in decision.reasons:
            content = UPSET_TEXT
        else:
            content = HANDOVER_TEXT
    else:
        try:
            composed = provider.compose(
                question=question, history=history, hits=hits, on_delta=on_delta
            )
            content, cited = composed.content, composed.cited
        except ProviderError as error:
            # A model that says the articles don't cover it is a low-confidence answer, not
            # an outage; both hand over.
            reason = (
                "provider_declined" if isinstance(error, ProviderDeclined) else ("provider_failed")
            )
            logger.warning("Provider %s: %s (%s); handing over", provider.name, error, reason)
            decision = policy.EscalationDecision(True, [*decision.reasons, reason])
            metadata["reasons"] = decision.reasons
            content = HANDOVER_TEXT
    metadata["compute_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return AgentReply(
        content=content,
        sources=[
            {
                "article_id": h.article_id,
                "title": h.title,
                "score": round(h.score, 4),
                "slug": h.slug,
                # The public page the customer can open (DESIGN: sources carry the url).
                "url": article_url(h.slug),
            }
            for h in cited
        ],
        confidence=round(confidence, 4),
        escalate=decision.escalate,
        reasons=decision.reasons,
        query=query,
        provider=provider.name,
        metadata=metadata,
    )
