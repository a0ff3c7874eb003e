"""Agent services: schedule a reply, generate it through the pipeline, or fail gracefully.

Also the unanswered sweep: the safety net for a reply task lost with its worker (SIGKILL,
OOM, node loss) or never enqueued (broker down when the message was stored). The unanswered
customer message is itself the record of work to do, so nothing else needs to be persisted.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from chat.models import Message, MessageRole
from chat.services import message_create
from sessions_app.models import HandledBy, SessionStatus, SupportSession
from sessions_app.services import session_escalate
from supportdesk import realtime
from supportdesk.conf import app_setting
from supportdesk.metrics import AGENT_REPLY_SECONDS, UNANSWERED_SWEPT

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

# The sweep looks back this far at most, and handles this many messages per run: both keep
# its query bounded however many old sessions were never closed.
SWEEP_LOOKBACK = timedelta(hours=24)
SWEEP_BATCH = 100


def reply_schedule(*, message_id: uuid.UUID) -> None:
    """Queue the agent's reply to a customer message (eager in embedded mode)."""
    from .tasks import agent_reply

    agent_reply.delay(str(message_id))


def reply_on_customer_message(sender, *, message_id: uuid.UUID, awaits_ai: bool, **kwargs) -> None:
    """Enqueue the reply to a stored customer message (receiver of ``customer_message_stored``).

    A broker outage is logged, not raised: the message is stored and the unanswered sweep
    enqueues the reply once the broker is back.
    """
    if not awaits_ai:
        if app_setting("AGENT_ANSWER_WHILE_WAITING"):
            _while_waiting_schedule(message_id=message_id)
        return
    try:
        reply_schedule(message_id=message_id)
    except Exception as error:
        logger.warning(
            "Could not enqueue the reply to message %s (%r); the unanswered sweep will",
            message_id,
            error,
        )


def _status(session_id: uuid.UUID, state: str) -> None:
    realtime.group_send(
        realtime.session_group(session_id), {"type": "agent.status", "state": state}
    )


def _ai_handles(session: SupportSession) -> bool:
    return session.status == SessionStatus.OPEN and session.handled_by == HandledBy.AI


def _should_answer(message: Message) -> bool:
    return message.role == MessageRole.CUSTOMER and _ai_handles(message.session)


class ReplyDropped(Exception):
    """The session stopped being the AI's (taken over, escalated, closed) while it composed."""


def _ai_still_handles(session: SupportSession) -> None:
    # Runs under the session's row lock in message_create: a take-over or close either
    # committed before (we see it and drop the reply) or waits for our commit.
    if not _ai_handles(session):
        raise ReplyDropped()


def reply_generate(*, message_id: uuid.UUID | str) -> Message | None:
    """Answer one customer message with the AI; idempotent (a message is answered once).

    Returns the stored reply, or None when the AI should not answer (a human took over,
    the session closed or escalated), checked before composing and again when storing.
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
        try:
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
                    authorize=_ai_still_handles,
                )
                if reply.escalate and result.created:
                    session_escalate(session_id=session_id, reason=", ".join(reply.reasons))
                if result.created:
                    waited = (timezone.now() - message.created_at).total_seconds()
                    transaction.on_commit(lambda: AGENT_REPLY_SECONDS.observe(waited))
        except ReplyDropped:
            logger.info(
                "Reply to message %s dropped: session %s is no longer the AI's",
                message.pk,
                session_id,
            )
            return None
        return result.message
    finally:
        _status(session_id, "idle")


def reply_fail(*, message_id: uuid.UUID | str, error: str) -> Message | None:
    """After the last retry: apologise, hand over to a person, never leave the customer waiting.

    Returns None, storing nothing, when the session stopped being the AI's meanwhile (a
    person has it or it is closed: there is nobody to hand over to).
    """
    message = Message.objects.select_related("session").get(pk=message_id)
    try:
        with transaction.atomic():
            result = message_create(
                session_id=message.session_id,
                role=MessageRole.SYSTEM,
                content=FAILURE_TEXT,
                requires_escalation=True,
                in_reply_to_id=message.pk,
                metadata={"event": "agent_failed", "error": error[:500]},
                authorize=_ai_still_handles,
            )
            if result.created:
                session_escalate(session_id=message.session_id, reason="agent_failed")
    except ReplyDropped:
        logger.warning(
            "Agent failed to answer message %s (%s); session %s is no longer the AI's",
            message_id,
            error,
            message.session_id,
        )
        return None
    finally:
        _status(message.session_id, "idle")
    logger.error("Agent failed to answer message %s: %s", message_id, error)
    return result.message


# --- Answers while the customer waits for a person (AGENT_ANSWER_WHILE_WAITING) ----------------

WHILE_WAITING_LABEL = "Automated answer while you wait"


def _waiting_for_human(session: SupportSession) -> bool:
    """Return whether the session is in the human queue and no person holds it yet."""
    return (
        session.status == SessionStatus.ESCALATED
        and session.handled_by == HandledBy.AI
        and session.assignee_id is None
    )


def _human_replied(session: SupportSession) -> bool:
    """Return whether a person answered the customer since the hand-over (an API key too)."""
    replies = Message.objects.filter(session=session, role=MessageRole.AGENT, internal=False)
    if session.escalated_at is not None:
        replies = replies.filter(created_at__gte=session.escalated_at)
    return replies.exists()


def _still_waiting(session: SupportSession) -> None:
    # Under the session's row lock in message_create, like _ai_still_handles: a take-over, a
    # close or a person's reply either committed before (the answer is dropped) or waits.
    if not _waiting_for_human(session) or _human_replied(session):
        raise ReplyDropped()


def _while_waiting_schedule(*, message_id: uuid.UUID) -> None:
    from .tasks import agent_reply_while_waiting

    try:
        agent_reply_while_waiting.delay(str(message_id))
    except Exception as error:
        # Best effort: the customer is in the human queue whatever happens here.
        logger.warning("Could not enqueue the waiting answer to %s: %r", message_id, error)


def reply_while_waiting_generate(*, message_id: uuid.UUID | str) -> Message | None:
    """Answer a simple knowledge-base question while the customer waits for a person.

    Only when the operator enabled it, nobody has taken the session over, no person has
    replied since the hand-over, and the AI would answer from an article without handing
    over; checked before composing and again under the row lock when storing. The answer is
    labelled as automated. Returns the stored answer or None.
    """
    if not app_setting("AGENT_ANSWER_WHILE_WAITING"):
        return None
    message = Message.objects.select_related("session").get(pk=message_id)
    existing = Message.objects.filter(in_reply_to=message).first()
    if existing is not None:
        return existing
    session = message.session
    if message.role != MessageRole.CUSTOMER or not _waiting_for_human(session):
        return None
    if _human_replied(session):
        return None
    history = memory.conversation_recall(session_id=session.pk, before_seq=message.seq)
    reply = reply_compose(question=message.content, history=history)
    if reply.escalate or not reply.sources:
        return None  # not a simple article answer: leave it to the person who is coming
    try:
        result = message_create(
            session_id=session.pk,
            role=MessageRole.ASSISTANT,
            content=f"{WHILE_WAITING_LABEL}:\n\n{reply.content}",
            sources=reply.sources,
            confidence=reply.confidence,
            in_reply_to_id=message.pk,
            metadata={**reply.metadata, "provider": reply.provider, "while_waiting": True},
            authorize=_still_waiting,
        )
    except ReplyDropped:
        logger.info("Waiting answer to %s dropped: a person has session %s", message.pk, session.pk)
        return None
    return result.message


# --- The unanswered sweep -------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    requeued: int
    failed: int


def unanswered_messages(*, older_than: datetime, now: datetime) -> list[Message]:
    """Return customer messages the AI owes a reply: oldest first, at most SWEEP_BATCH.

    A message counts when its session is open and the AI's, nothing answers it
    (``in_reply_to``), and no person or lifecycle note came after it (a message a person
    answered before handing back to the AI is not the AI's to answer now).
    """
    since = now - SWEEP_LOOKBACK
    answered = Message.objects.filter(in_reply_to=OuterRef("pk"))
    # Agent messages and timeline notes (take-over, hand-back, …) carry no in_reply_to; AI
    # replies to other messages and private notes do not close the question.
    superseded = Message.objects.filter(
        session=OuterRef("session"),
        seq__gt=OuterRef("seq"),
        in_reply_to__isnull=True,
        internal=False,
    ).filter(~Q(role=MessageRole.CUSTOMER))
    return list(
        Message.objects.filter(
            role=MessageRole.CUSTOMER,
            session__status=SessionStatus.OPEN,
            session__handled_by=HandledBy.AI,
            # Uses the (status, -last_activity_at) index; a session's last activity is never
            # earlier than its messages.
            session__last_activity_at__gte=since,
            created_at__gte=since,
            created_at__lt=older_than,
        )
        .filter(~Exists(answered), ~Exists(superseded))
        .order_by("created_at")[:SWEEP_BATCH]
    )


def unanswered_sweep(*, now: datetime | None = None) -> SweepResult:
    """Re-enqueue the replies nobody delivered; after AGENT_SWEEP_MAX_REQUEUES, fail over.

    A message is re-enqueued at most once per AGENT_UNANSWERED_AFTER; the count lives in its
    metadata (``sweep``). Giving up goes through reply_fail: a polite system message and an
    escalation, so a person is alerted. A duplicate task is harmless: a message is answered
    once (``in_reply_to`` is unique and message_create returns the stored reply).
    """
    now = now or timezone.now()
    after = timedelta(seconds=float(app_setting("AGENT_UNANSWERED_AFTER")))
    max_requeues = int(app_setting("AGENT_SWEEP_MAX_REQUEUES"))
    requeued = failed = 0
    for message in unanswered_messages(older_than=now - after, now=now):
        sweep = (message.metadata or {}).get("sweep") or {}
        count = int(sweep.get("requeues", 0))
        last = sweep.get("at")
        if last and datetime.fromisoformat(last) > now - after:
            continue  # re-enqueued recently: give that task its time
        if count >= max_requeues:
            reply_fail(
                message_id=message.pk,
                error=f"unanswered after {count} re-enqueues by the sweep",
            )
            UNANSWERED_SWEPT.labels("failed").inc()
            failed += 1
            continue
        try:
            reply_schedule(message_id=message.pk)
        except Exception as error:
            # The broker is down again: the next run retries; nothing was counted.
            logger.warning("Sweep could not enqueue the reply to %s: %r", message.pk, error)
            break
        Message.objects.filter(pk=message.pk).update(
            metadata={**message.metadata, "sweep": {"requeues": count + 1, "at": now.isoformat()}}
        )
        UNANSWERED_SWEPT.labels("requeued").inc()
        requeued += 1
        logger.warning(
            "Message %s of session %s unanswered after %s s: reply re-enqueued (%d/%d)",
            message.pk,
            message.session_id,
            int(after.total_seconds()),
            count + 1,
            max_requeues,
        )
    return SweepResult(requeued=requeued, failed=failed)


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
