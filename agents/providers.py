"""Reply providers — the one module that talks to language models (or stands in for one).

`extractive` (the default and, for now, the only one) answers offline and deterministically
from the best article. An `openai` provider belongs here too (docs/agent.md).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from supportdesk.conf import app_setting

from .knowledge import ArticleHit
from .memory import Turn

logger = logging.getLogger(__name__)

DeltaCallback = Callable[[str], None]


class ProviderError(Exception):
    """The provider could not produce a reply (endpoint down, timeout, bad answer)."""


@dataclass(frozen=True)
class Composed:
    content: str
    cited: list[ArticleHit]  # the articles the reply actually draws on, best first


class ReplyProvider(Protocol):
    name: str

    def compose(
        self,
        *,
        question: str,
        history: list[Turn],
        hits: list[ArticleHit],
        on_delta: DeltaCallback | None = None,
    ) -> Composed: ...


_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = (
    "a an the and or to of in on for is are was be do does did i my me you your it this "
    "that how what when where why can could would should will with at by from have has"
)
_STOP = frozenset(_STOPWORDS.split())


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


class ExtractiveProvider:
    """Answer with the most relevant sentences of the best article, verbatim."""

    name = "extractive"
    max_sentences = 3

    def compose(self, *, question, history, hits, on_delta=None) -> Composed:
        if not hits:
            raise ProviderError("no article to answer from")
        best = hits[0]
        sentences = [s.strip() for s in _SENTENCE_SPLIT.split(best.body.strip()) if s.strip()]
        if len(sentences) > self.max_sentences:
            wanted = _words(question) | _words(best.title)
            ranked = sorted(
                range(len(sentences)),
                key=lambda i: (-len(_words(sentences[i]) & wanted), i),
            )
            # Keep the chosen sentences in the article's own order so the answer reads well.
            keep = sorted(ranked[: self.max_sentences])
            sentences = [sentences[i] for i in keep]
        content = " ".join(sentences)
        if on_delta is not None:
            on_delta(content)
        return Composed(content=content, cited=[best])


def provider_get(name: str | None = None) -> ReplyProvider:
    """Return the configured reply provider."""
    name = (name or str(app_setting("AGENT_PROVIDER"))).strip().lower()
    if name != "extractive":
        # The openai provider is not built yet (see docs/agent.md): say so, answer offline.
        logger.warning("AGENT_PROVIDER %r is not available; using extractive", name)
    return ExtractiveProvider()
