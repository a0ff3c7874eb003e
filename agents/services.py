"""Agent services: schedule a reply, generate it through the pipeline, or fail gracefully."""

from __future__ import annotations

import logging
import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone

from chat.models import Message, MessageRole
from chat.services import message_create
from sessions_app.models import HandledBy, SessionStatus
from sessions_app.services import session_escalate
from supportdesk import realtime

from . import memory
from .exceptions import SlugTaken
from .models import Article, ArticleExample
from .pipeline import reply_compose
from .signals import index_rebuild_schedule

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


# --- Knowledge base writes (REST API) ---------------------------------------------------------
# Each change runs in one transaction and queues one index rebuild after commit, however many
# rows it touches (signals.index_rebuild_schedule), exactly as an admin edit does.


def _examples_new(article: Article, texts: list[str]) -> list[ArticleExample]:
    """Return the example rows to add: stripped, without ones the article already has."""
    known = set(article.examples.values_list("text", flat=True))
    new = []
    for raw in texts:
        text = raw.strip()
        if text and text not in known:
            known.add(text)
            new.append(ArticleExample(article=article, text=text))
    return new


@transaction.atomic
def article_create(
    *,
    slug: str,
    title: str,
    body: str,
    tags: list[str] | None = None,
    is_published: bool = True,
    examples: list[str] | None = None,
) -> Article:
    """Create an article (and its example questions); the index rebuilds after commit."""
    if Article.objects.filter(slug=slug).exists():
        raise SlugTaken()
    try:
        # A savepoint: a concurrent create of the same slug loses here, not at commit.
        with transaction.atomic():
            article = Article.objects.create(
                slug=slug, title=title, body=body, tags=tags or [], is_published=is_published
            )
    except IntegrityError:
        raise SlugTaken() from None
    ArticleExample.objects.bulk_create(_examples_new(article, examples or []))
    index_rebuild_schedule()
    logger.info("Article %s created", article.slug)
    return article


@transaction.atomic
def article_update(*, article: Article, **fields) -> Article:
    """Change an article's slug, title, body, tags or is_published; the index rebuilds."""
    allowed = {"slug", "title", "body", "tags", "is_published"}
    changes = {name: value for name, value in fields.items() if name in allowed}
    if not changes:
        return article
    slug = changes.get("slug")
    if slug and Article.objects.filter(slug=slug).exclude(pk=article.pk).exists():
        raise SlugTaken()
    for name, value in changes.items():
        setattr(article, name, value)
    try:
        with transaction.atomic():
            article.save(update_fields=[*changes, "updated_at"])
    except IntegrityError:
        raise SlugTaken() from None
    return article


@transaction.atomic
def article_delete(*, article: Article) -> None:
    """Delete an article with its example questions; the index rebuilds once."""
    logger.info("Article %s deleted", article.slug)
    article.delete()


@transaction.atomic
def article_examples_add(*, article: Article, texts: list[str]) -> list[ArticleExample]:
    """Add example questions (one or many: one rebuild); return the ones actually added."""
    # The article's row lock serialises concurrent adds, so the duplicate check holds.
    article = Article.objects.select_for_update().get(pk=article.pk)
    new = ArticleExample.objects.bulk_create(_examples_new(article, texts))
    if new:
        # bulk_create sends no signals: touch the article (the index fingerprint follows its
        # updated_at) and queue the rebuild here, as signals.example_changed would.
        Article.objects.filter(pk=article.pk).update(updated_at=timezone.now())
        index_rebuild_schedule()
    return new


@transaction.atomic
def article_example_delete(*, example: ArticleExample) -> None:
    """Delete one example question; the index rebuilds."""
    example.delete()
