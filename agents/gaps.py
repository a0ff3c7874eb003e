"""Knowledge gaps: recent customer questions the AI did not answer from an article, grouped.

A gap is a customer message whose AI reply handed the conversation over (or, once the bot
declines or asks to clarify, carries ``metadata["decision"]`` in ``NOT_ANSWERED_DECISIONS``),
except hand-overs the knowledge base could not have prevented (the customer asked for a
person, or was upset). Questions already saved as an article's example are gaps no longer.

Grouping reuses the retrieval engine's sentence vectors (agents/encoder.py, MiniLM; TF-IDF
when ``AGENT_ENCODER=none``): a greedy pass joins each question to the most similar group
centroid when the cosine is at least ``KNOWLEDGE_GAPS_SIMILARITY``, else starts a group. Only
the last ``KNOWLEDGE_GAPS_WINDOW`` non-answers are read: one query, one encoder batch.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Exists, OuterRef, Q

from chat.models import Message, MessageRole
from supportdesk.conf import app_setting

from .encoder import sentence_encoder
from .knowledge import ArticleHit, KnowledgeIndexUnavailable, articles_search_many
from .models import ArticleExample

logger = logging.getLogger(__name__)

# Hand-over reasons that say nothing about missing knowledge.
NOT_GAP_REASONS = frozenset({"human_requested", "customer_upset"})
# Reply kinds (metadata["decision"]) that did not answer from an article, besides a hand-over.
NOT_ANSWERED_DECISIONS = ("decline", "clarify")
# How many questions one group shows (all of them are counted and acted on).
EXAMPLES_SHOWN = 5


@dataclass(frozen=True)
class GapQuestion:
    message_id: uuid.UUID
    session_id: uuid.UUID
    text: str
    reasons: tuple[str, ...]


@dataclass
class GapGroup:
    questions: list[GapQuestion] = field(default_factory=list)
    suggestion: ArticleHit | None = None

    @property
    def count(self) -> int:
        return len(self.questions)

    @property
    def title(self) -> str:
        return self.questions[0].text

    @property
    def examples(self) -> list[str]:
        """Return up to EXAMPLES_SHOWN distinct question texts, newest first."""
        seen: dict[str, str] = {}
        for question in self.questions:
            seen.setdefault(question.text.casefold(), question.text)
        return list(seen.values())[:EXAMPLES_SHOWN]

    @property
    def message_ids(self) -> list[str]:
        return [str(q.message_id) for q in self.questions]


def gap_questions(*, limit: int | None = None) -> list[GapQuestion]:
    """Return the latest customer questions the AI did not answer from an article (one query)."""
    limit = int(limit or app_setting("KNOWLEDGE_GAPS_WINDOW"))
    replies = (
        Message.objects.filter(
            role=MessageRole.ASSISTANT,
            in_reply_to__isnull=False,
            in_reply_to__role=MessageRole.CUSTOMER,
        )
        .filter(Q(requires_escalation=True) | Q(metadata__decision__in=NOT_ANSWERED_DECISIONS))
        .exclude(Exists(ArticleExample.objects.filter(text=OuterRef("in_reply_to__content"))))
        .order_by("-created_at")
        .values_list("in_reply_to_id", "session_id", "in_reply_to__content", "metadata")[:limit]
    )
    questions = []
    for message_id, session_id, text, metadata in replies:
        reasons = tuple((metadata or {}).get("reasons") or ())
        if reasons and set(reasons) <= NOT_GAP_REASONS:
            continue
        questions.append(GapQuestion(message_id, session_id, text.strip(), reasons))
    return questions


def _vectors(texts: list[str]) -> np.ndarray:
    """Return one unit row per text: the retrieval engine's MiniLM vectors, else TF-IDF."""
    encoder = sentence_encoder()
    if encoder is not None:
        return encoder.encode(texts)
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    matrix = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2)).fit_transform(texts)
    return normalize(matrix).toarray()


def gap_groups_cluster(questions: list[GapQuestion], *, threshold: float) -> list[GapGroup]:
    """Group questions greedily by cosine similarity to each group's centroid."""
    if not questions:
        return []
    vectors = _vectors([q.text for q in questions])
    groups: list[GapGroup] = []
    sums: list[np.ndarray] = []
    for question, vector in zip(questions, vectors, strict=True):
        best, best_score = -1, threshold
        for i, total in enumerate(sums):
            norm = float(np.linalg.norm(total))
            score = float(total @ vector) / norm if norm else 0.0
            if score >= best_score:
                best, best_score = i, score
        if best < 0:
            groups.append(GapGroup(questions=[question]))
            sums.append(vector.astype(np.float64).copy())
        else:
            groups[best].questions.append(question)
            sums[best] += vector
    # Most asked first; among equals, the most recent (questions arrive newest first).
    order = sorted(range(len(groups)), key=lambda i: -groups[i].count)
    return [groups[i] for i in order]


def knowledge_gaps(*, limit: int | None = None) -> list[GapGroup]:
    """Return the recent knowledge gaps, grouped, each with the article the engine would pick."""
    threshold = float(app_setting("KNOWLEDGE_GAPS_SIMILARITY"))
    groups = gap_groups_cluster(gap_questions(limit=limit), threshold=threshold)
    try:
        hits = articles_search_many([group.title for group in groups], limit=1)
    except KnowledgeIndexUnavailable:
        logger.info("Knowledge index unavailable: gaps listed without suggested articles")
        return groups
    for group, found in zip(groups, hits, strict=True):
        group.suggestion = found[0] if found else None
    return groups
