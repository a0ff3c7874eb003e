"""The agent pipeline: triage → memory → knowledge-base search → decision → provider reply."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from supportdesk.conf import app_setting

from . import decision as decisions
from . import memory, policy
from .decision import Action, Decision
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


@dataclass
class AgentReply:
    content: str
    sources: list[dict]
    confidence: float | None  # None when no article was weighed (small talk, language)
    escalate: bool
    reasons: list[str]
    query: str
    provider: str
    metadata: dict = field(default_factory=dict)
    # Quick replies offered with the message (decision.Suggestion.as_dict()).
    suggestions: list[dict] = field(default_factory=list)


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


def _language_check() -> bool:
    return bool(app_setting("AGENT_LANGUAGE_CHECK"))


def _fixed_reply(
    decision: Decision, *, question: str, provider: str, metadata: dict, started: float
) -> AgentReply:
    """Return a reply whose words the decision chose (everything but an answer)."""
    metadata = {
        **metadata,
        "decision": str(decision.action),
        "decision_kind": decision.kind,
        "reasons": decision.reasons,
        "suggestions": [s.as_dict() for s in decision.suggestions],
        "compute_ms": round((time.perf_counter() - started) * 1000, 2),
    }
    return AgentReply(
        content=decision.content,
        sources=[],
        confidence=metadata.pop("confidence", None),
        escalate=decision.escalate,
        reasons=decision.reasons,
        query=metadata.get("query", question),
        provider=provider,
        metadata=metadata,
        suggestions=metadata["suggestions"],
    )


def reply_compose(
    *,
    question: str,
    history: list[memory.Turn],
    provider: ReplyProvider | None = None,
    on_delta: DeltaCallback | None = None,
) -> AgentReply:
    """Decide how the AI answers ``question`` given the earlier turns ``history``."""
    started = time.perf_counter()
    previous_reply = memory.previous_agent_reply(history)
    triaged = decisions.message_triage(
        text=question, previous_reply=previous_reply, check_language=_language_check()
    )
    if triaged is not None:
        metadata = {"smalltalk": triaged.kind} if triaged.action == Action.SMALLTALK else {}
        return _fixed_reply(
            triaged,
            question=question,
            provider="smalltalk" if triaged.action == Action.SMALLTALK else "policy",
            metadata=metadata,
            started=started,
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
    metadata = {
        "query": query,
        "used_memory": used_memory,
        "unhelpful_feedback": policy.is_unhelpful_feedback(question),
        "candidates": [{"slug": h.slug, "score": round(h.score, 4)} for h in hits],
        "confidence": round(confidence, 4),
    }
    if index_unavailable:
        decision = Decision(
            Action.HANDOVER, ["knowledge_index_unavailable"], decisions.HANDOVER_TEXT, "index"
        )
    else:
        decision = decisions.reply_decide(
            text=question,
            candidates=hits,
            threshold=confidence_threshold(),
            failed_tries=memory.unhelpful_streak(history),
            previous_reply=previous_reply,
        )
    if decision.action != Action.ANSWER:
        return _fixed_reply(
            decision, question=question, provider=provider.name, metadata=metadata, started=started
        )
    try:
        composed = provider.compose(
            question=question, history=history, hits=hits, on_delta=on_delta
        )
    except ProviderError as error:
        # A model that says the articles don't cover it is a low-confidence answer, not
        # an outage; both hand over.
        reason = "provider_declined" if isinstance(error, ProviderDeclined) else "provider_failed"
        logger.warning("Provider %s: %s (%s); handing over", provider.name, error, reason)
        handover = Decision(Action.HANDOVER, [reason], decisions.HANDOVER_TEXT, reason)
        return _fixed_reply(
            handover, question=question, provider=provider.name, metadata=metadata, started=started
        )
    # Never the same words twice in a row ("Are you still there?" once got the refund answer
    # again): a repeat becomes a question about what is missing.
    repeated = decisions.repeat_avoid(
        decision=decision, text=question, content=composed.content, previous_reply=previous_reply
    )
    if repeated is not decision:
        return _fixed_reply(
            repeated, question=question, provider=provider.name, metadata=metadata, started=started
        )
    metadata.pop("confidence")
    metadata.update(
        decision="answer",
        decision_kind="answer",
        reasons=[],
        suggestions=[],
        compute_ms=round((time.perf_counter() - started) * 1000, 2),
    )
    return AgentReply(
        content=composed.content,
        sources=[
            {
                "article_id": h.article_id,
                "title": h.title,
                "score": round(h.score, 4),
                "slug": h.slug,
                # The public page the customer can open (DESIGN: sources carry the url).
                "url": article_url(h.slug),
            }
            for h in composed.cited
        ],
        confidence=round(confidence, 4),
        escalate=False,
        reasons=[],
        query=query,
        provider=provider.name,
        metadata=metadata,
    )
