"""Reply providers — the one module that talks to language models (or stands in for one).

`extractive` (the default) answers offline and deterministically from the best article;
`openai` streams a grounded, cited answer from any OpenAI-compatible endpoint and falls back
to `extractive` when the endpoint fails before saying anything (docs/agent.md).
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


def _overlap(words: set[str], sentence: set[str]) -> int:
    """Count ``words`` found in ``sentence``, a word matching its longer or shorter forms.

    "ship" finds "shipping", "internationally" finds "international": a shared beginning of
    at least four letters, a stemmer's worth of matching for a few lines.
    """
    return sum(
        1
        for w in words
        if w in sentence
        or any(min(len(w), len(s)) >= 4 and (w.startswith(s) or s.startswith(w)) for s in sentence)
    )


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
            asked, title = _words(question), _words(best.title)
            scores = [
                (_overlap(asked, _words(s)), _overlap(asked | title, _words(s))) for s in sentences
            ]
            ranked = sorted(range(len(sentences)), key=lambda i: (-scores[i][0], -scores[i][1], i))
            # When some sentences answer the question's own words, only those: "Do you ship
            # internationally?" must not open with the domestic delivery times (issue #12).
            if scores[ranked[0]][0] > 0:
                ranked = [i for i in ranked if scores[i][0] > 0]
            # Keep the chosen sentences in the article's own order so the answer reads well.
            keep = sorted(ranked[: self.max_sentences])
            sentences = [sentences[i] for i in keep]
        content = " ".join(sentences)
        if on_delta is not None:
            on_delta(content)
        return Composed(content=content, cited=[best])


# --- openai: any OpenAI-compatible chat-completions endpoint, streamed -------------------------

SYSTEM_PROMPT = (
    "You are the customer-support assistant of this shop. Answer the customer's question "
    "using ONLY the numbered knowledge-base articles provided below; never use outside "
    "knowledge and never invent policies, prices, dates or links. Cite the articles you use "
    "with their numbers in square brackets, like [1] or [2], right after the sentence they "
    "support. If the articles do not cover the question, say that you don't know and do not "
    "cite anything. Be brief, friendly and plain: two to four sentences, no headings."
)

# "[2]", "[1, 3]", "[1][2]" — with the space before them, so stripping leaves clean prose.
_MARKER = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
# What may still turn into a marker (or the space before one) when the next delta arrives.
_MARKER_TAIL = re.compile(r"\s*(?:\[[\d,\s]*)?\Z")
# The ways a model says the articles don't cover it (straight or curly apostrophes).
_DONT_KNOW = re.compile(
    r"\b(?:i\s+do\s*n['’o]?t\s+know|i(?:['’]m|\s+am)\s+not\s+sure"
    r"|(?:can\s*not|can['’]?t|unable\s+to)\s+(?:help|answer|find)"
    r"|do(?:es)?\s*n['’o]?t\s+(?:cover|mention|say|include|have\s+(?:that|this|any|enough))"
    r"|not\s+covered)\b",
    re.IGNORECASE,
)
_ROLES = {"customer": "user", "assistant": "assistant", "agent": "assistant"}


class ProviderDeclined(ProviderError):
    """The model said the articles do not answer the question: a low-confidence reply.

    A ProviderError, so the pipeline hands the conversation over to a person.
    """


class _StreamFailed(Exception):
    """The endpoint failed; ``streamed`` says whether the customer had already seen text."""

    def __init__(self, reason: str, *, streamed: bool):
        super().__init__(reason)
        self.streamed = streamed


class _MarkerStripper:
    """Remove citation markers from streamed text, holding back what may be half a marker.

    Deltas split anywhere ("days [", "1]."), so a trailing "[1" or space waits for the next
    delta; what the customer sees streamed is then exactly the stored reply.
    """

    def __init__(self):
        self._pending = ""
        self._started = False

    def feed(self, piece: str) -> str:
        text = _MARKER.sub("", self._pending + piece)
        cut = _MARKER_TAIL.search(text).start()
        self._pending = text[cut:]
        return self._emit(text[:cut])

    def flush(self) -> str:
        # An unfinished "[12" at the very end was never a marker: it is text.
        text, self._pending = self._pending.rstrip(), ""
        return self._emit(text)

    def _emit(self, text: str) -> str:
        if not self._started:
            text = text.lstrip()
            self._started = bool(text)
        return text


def _cited(raw: str, hits: list[ArticleHit]) -> list[ArticleHit]:
    """Return the hits the answer's [n] markers point at, in order of first appearance."""
    cited: list[ArticleHit] = []
    for match in _MARKER.finditer(raw):
        for number in match.group(1).split(","):
            index = int(number) - 1
            if 0 <= index < len(hits) and hits[index] not in cited:
                cited.append(hits[index])
    return cited


def _delta_text(chunk) -> str:
    # Compatible servers differ: keep-alive chunks without choices, a null content, a final
    # usage-only chunk. Anything without text simply contributes nothing.
    choices = getattr(chunk, "choices", None) or []
    if not choices:
        return ""
    delta = getattr(choices[0], "delta", None)
    content = getattr(delta, "content", None)
    return content if isinstance(content, str) else ""


def _finished(chunk) -> bool:
    choices = getattr(chunk, "choices", None) or []
    return bool(choices and getattr(choices[0], "finish_reason", None))


class OpenAIProvider:
    """Answer through an OpenAI-compatible chat-completions endpoint, grounded and streamed.

    Settings (read when the provider is built, overridable by argument): OPENAI_BASE_URL
    (empty: OpenAI's own), OPENAI_API_KEY, OPENAI_MODEL, OPENAI_TIMEOUT (seconds, for the
    connection and for each wait for the next piece of the stream).
    """

    name = "openai"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        model: str | None = None,
        timeout: float | None = None,
        max_retries: int = 2,
    ):
        self.base_url = base_url or str(app_setting("OPENAI_BASE_URL")) or None
        self.api_key = api_key or str(app_setting("OPENAI_API_KEY"))
        self.model = model or str(app_setting("OPENAI_MODEL"))
        self.timeout = float(timeout if timeout is not None else app_setting("OPENAI_TIMEOUT"))
        # The client's own retries (connection errors, 408/409/429/5xx, honouring Retry-After)
        # happen before any byte of an answer arrives, so they never repeat a streamed delta.
        self.max_retries = max_retries

    def messages(self, *, question: str, history: list[Turn], hits: list[ArticleHit]) -> list:
        """Return the grounded prompt: rules, numbered articles, earlier turns, the question."""
        articles = "\n\n".join(
            f"[{number}] {hit.title}\n{hit.body.strip()}" for number, hit in enumerate(hits, 1)
        )
        messages = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "system", "content": f"Knowledge-base articles:\n\n{articles}"},
        ]
        for turn in history:
            role = _ROLES.get(str(turn.role))
            # System notices ("passed to our team…") are not the model's words nor the
            # customer's; as system messages they would read as instructions, so skip them.
            if role and turn.content.strip():
                messages.append({"role": role, "content": turn.content})
        messages.append({"role": "user", "content": question})
        return messages

    def compose(self, *, question, history, hits, on_delta=None) -> Composed:
        if not hits:
            raise ProviderError("no article to answer from")
        if not self.api_key:
            # A configuration mistake, not an outage: say so loudly instead of quietly
            # answering extractively for ever.
            raise ProviderError(
                "AGENT_PROVIDER=openai but OPENAI_API_KEY is not set; set it (any non-empty "
                "value for a local server that ignores it) or use AGENT_PROVIDER=extractive"
            )
        try:
            raw, content = self._stream(
                self.messages(question=question, history=history, hits=hits), on_delta
            )
        except _StreamFailed as failure:
            if failure.streamed:
                # Half an answer is already on the customer's screen: an extractive reply
                # now would contradict it. Let the pipeline hand over instead.
                raise ProviderError(f"{self.name} failed mid-stream: {failure}") from failure
            logger.warning(
                "Provider %s failed before streaming (%s); answering extractively",
                self.name,
                failure,
            )
            return ExtractiveProvider().compose(
                question=question, history=history, hits=hits, on_delta=on_delta
            )
        cited = _cited(raw, hits)
        if not cited and _DONT_KNOW.search(content):
            raise ProviderDeclined(
                f"the model could not answer from the articles: {content[:200]!r}"
            )
        return Composed(content=content, cited=cited or [hits[0]])

    def _stream(self, messages: list, on_delta: DeltaCallback | None) -> tuple[str, str]:
        """Stream one completion; return (raw text with markers, text without them)."""
        import openai  # here, not at module level: ~0.6 s that extractive deployments skip

        raw: list[str] = []
        shown: list[str] = []
        stripper = _MarkerStripper()

        def show(text: str) -> None:
            if text:
                shown.append(text)
                if on_delta is not None:
                    on_delta(text)

        # Malformed streams surface as JSON (ValueError) or attribute errors, not OpenAIError.
        failures = (openai.OpenAIError, ValueError, TypeError, AttributeError, KeyError)
        finished = False
        try:
            client = openai.OpenAI(
                base_url=self.base_url,
                api_key=self.api_key,
                timeout=self.timeout,
                max_retries=self.max_retries,
            )
        except failures as error:
            raise _StreamFailed(_describe(error), streamed=False) from error
        with client:
            try:
                # No temperature or other tuning: reasoning models reject anything but their
                # defaults, and the grounding comes from the prompt.
                stream = client.chat.completions.create(
                    model=self.model, messages=messages, stream=True
                )
            except failures as error:
                raise _StreamFailed(_describe(error), streamed=False) from error
            with stream:
                chunks = iter(stream)
                while True:
                    # Only the endpoint's errors are caught: an on_delta failure (the channel
                    # layer) is not the model's fault and must not look like one.
                    try:
                        chunk = next(chunks)
                    except StopIteration:
                        break
                    except failures as error:
                        raise _StreamFailed(_describe(error), streamed=bool(shown)) from error
                    piece = _delta_text(chunk)
                    if piece:
                        raw.append(piece)
                        show(stripper.feed(piece))
                    finished = finished or _finished(chunk)
        if not finished:
            # The body ended without a finish_reason: a proxy or server cut the answer short.
            raise _StreamFailed("the stream ended before the answer finished", streamed=bool(shown))
        show(stripper.flush())
        content = "".join(shown)
        if not content:
            raise _StreamFailed("the model returned an empty answer", streamed=False)
        return "".join(raw), content


def _describe(error: Exception) -> str:
    # The class and the server's own words ("Error code: 401 - invalid key"), kept short
    # for a log line.
    return f"{type(error).__name__}: {str(error)[:300]}"


def provider_get(name: str | None = None) -> ReplyProvider:
    """Return the configured reply provider."""
    name = (name or str(app_setting("AGENT_PROVIDER"))).strip().lower()
    if name == "openai":
        return OpenAIProvider()
    if name != "extractive":
        logger.warning("AGENT_PROVIDER %r is not a provider; using extractive", name)
    return ExtractiveProvider()
