"""The one path a message takes into the system, and the connection registry's writes.

message_create() is called by the customer WebSocket, the agent console, the REST API and
Celery tasks alike: persist under the session's row lock (allocating the next seq), then —
only after commit — broadcast it and, for a customer message, send ``customer_message_stored``
(agents subscribes to it and enqueues the reply; chat never imports agents).

On PostgreSQL the common case (no ``authorize`` callback, no ``in_reply_to``) is one SQL
statement in a short transaction (_persist_one_statement); anything unusual — a re-sent
client_msg_id, a closed session, a missing one — rolls it back and takes the general path,
which decides. The broadcast encodes each copy of the ``message`` frame once (message_broadcast).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import connections, router, transaction
from django.utils import timezone

from sessions_app.exceptions import AlreadyAssigned, SessionClosed, SessionNotFound
from sessions_app.models import HandledBy, SessionStatus, SupportSession
from sessions_app.services import session_reopen_on_customer_reply, session_take_over
from sessions_app.signals import send_after_commit
from sessions_app.triage import session_wake
from supportdesk import realtime
from supportdesk.conf import app_setting
from supportdesk.metrics import MESSAGES

from . import attachments as attachment_service
from .exceptions import MessageRejected, MessageTooLong
from .models import AttachmentKind, Connection, Message, MessageRole
from .serializers import message_frame, message_payload
from .signals import customer_message_stored, message_created

logger = logging.getLogger(__name__)

# Roles whose content a person typed: the size limit applies to them (notes: see below).
_HUMAN_ROLES = {MessageRole.CUSTOMER, MessageRole.AGENT}


@dataclass(frozen=True)
class MessageResult:
    message: Message
    created: bool  # False when client_msg_id (or in_reply_to) matched a stored message


def _validate_content(content: Any, role: str, *, has_attachments: bool = False) -> str:
    if not isinstance(content, str) or not (content.strip() or has_attachments):
        raise MessageRejected("content must be a non-empty string")
    limit = int(app_setting("CHAT_MAX_MESSAGE_CHARS"))
    if role in _HUMAN_ROLES and len(content) > limit:
        raise MessageTooLong(f"content is longer than {limit} characters", code="too_long")
    if "\x00" in content:
        raise MessageRejected("content must not contain NUL characters")
    return content


def _session_locked(session_id: uuid.UUID | str) -> SupportSession:
    """Return the session, locked for this transaction (its seq and status are ours)."""
    try:
        return SupportSession.objects.select_for_update().get(pk=session_id)
    except SupportSession.DoesNotExist:
        raise SessionNotFound() from None


def _resent(session: SupportSession, client_msg_id: str | None) -> Message | None:
    """Return the message already stored under ``client_msg_id`` (a re-send), if any."""
    if client_msg_id is None:
        return None
    return Message.objects.filter(session=session, client_msg_id=client_msg_id).first()


# The statement of the PostgreSQL path: lock the session row and take the next seq (UPDATE),
# then insert the message with that seq unless the session is closed to people or the row
# conflicts (a re-sent client_msg_id). Both in ONE statement, inside a transaction the caller
# rolls back when nothing was inserted, so a refused message never consumes a seq. The
# conflict check runs after the row lock is held, so it sees every committed re-send.
_PERSIST_SQL = """
WITH s AS (
    UPDATE {session_table} SET last_seq = last_seq + 1, last_activity_at = %s
    WHERE id = %s
    RETURNING id, last_seq, status, handled_by, snoozed_until IS NOT NULL AS snoozed
), i AS (
    INSERT INTO {message_table} ({columns})
    SELECT {values} FROM s WHERE NOT (s.status = %s AND %s) AND NOT (s.snoozed AND %s)
    ON CONFLICT DO NOTHING
    RETURNING id
)
SELECT s.last_seq, s.status, s.handled_by, (SELECT count(*) FROM i) FROM s
"""


def persist_statement(
    connection,
    *,
    session_id: uuid.UUID | str,
    refuse_if_closed: bool,
    refuse_if_snoozed: bool,
    fields: dict[str, Any],
) -> tuple[Message, str, list]:
    """Return the unsaved message, and the PostgreSQL statement and parameters that store it.

    Every concrete field of Message is written (defaults and auto_now_add applied as
    ``Model.save`` would), so a field added to the model needs no change here. Public for
    ``bench/async_db.py``, which runs the very same statement on another driver.
    """
    message = Message(seq=0, **fields)
    columns, placeholders, values = [], [], []
    quote = connection.ops.quote_name
    for field in Message._meta.concrete_fields:
        columns.append(quote(field.column))
        if field.attname == "seq":
            placeholders.append("s.last_seq")
            continue
        if field.attname == "session_id":
            placeholders.append("s.id")
            continue
        value = field.pre_save(message, add=True)
        placeholders.append("%s")
        values.append(field.get_db_prep_save(value, connection=connection))
    sql = _PERSIST_SQL.format(
        session_table=quote(SupportSession._meta.db_table),
        message_table=quote(Message._meta.db_table),
        columns=", ".join(columns),
        values=", ".join(placeholders),
    )
    params = [
        timezone.now(),
        session_id,
        *values,
        SessionStatus.CLOSED,
        refuse_if_closed,
        refuse_if_snoozed,
    ]
    return message, sql, params


def _persist_one_statement(
    *,
    session_id: uuid.UUID | str,
    refuse_if_closed: bool,
    refuse_if_snoozed: bool,
    fields: dict[str, Any],
) -> tuple[Message, str, str] | None:
    """Store a message in one statement on PostgreSQL; None when the general path must decide.

    Returns the message and the session's status and handled_by as they were under the lock.
    """
    connection = connections[router.db_for_write(Message)]
    message, sql, params = persist_statement(
        connection,
        session_id=session_id,
        refuse_if_closed=refuse_if_closed,
        refuse_if_snoozed=refuse_if_snoozed,
        fields=fields,
    )
    with transaction.atomic(using=connection.alias):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is None or row[3] != 1:
            # No session, a closed or snoozed one, or a re-send: undo the seq and let the
            # general path find out which (it raises, reopens, wakes, or returns the stored
            # message).
            transaction.set_rollback(True, using=connection.alias)
            return None
    last_seq, status, handled_by, _ = row
    message.seq = last_seq
    message.session_id = uuid.UUID(str(session_id))
    # As if loaded from the database: a later save() updates this row instead of inserting.
    message._state.adding = False
    message._state.db = connection.alias
    return message, status, handled_by


def message_create(
    *,
    session_id: uuid.UUID | str,
    role: str,
    content: str,
    client_msg_id: str | None = None,
    author=None,
    sources: list[dict] | None = None,
    confidence: float | None = None,
    requires_escalation: bool = False,
    in_reply_to_id: uuid.UUID | None = None,
    internal: bool = False,
    metadata: dict | None = None,
    authorize: Callable[[SupportSession], None] | None = None,
    attachment_ids: list | None = None,
) -> MessageResult:
    """Store a message with the session's next seq, then broadcast it after commit.

    Idempotent: a repeated ``client_msg_id`` (or a second reply to the same message) returns
    the stored message with ``created=False`` and changes nothing. ``authorize`` may refuse
    a new message by raising; it runs under the session's lock, after the idempotency check.
    ``attachment_ids`` name uploads (chat/attachments.py) of a customer (customer messages)
    or of staff (agent messages) the message carries; its content may then be empty.
    """
    if attachment_ids and (internal or role not in _HUMAN_ROLES):
        raise MessageRejected("only customer and agent messages carry attachments")
    # An internal note is typed by an agent too, so it gets the same size limit.
    content = _validate_content(
        content, MessageRole.AGENT if internal else role, has_attachments=bool(attachment_ids)
    )
    fields = {
        "role": role,
        "content": content,
        "client_msg_id": client_msg_id,
        "author": author,
        "sources": sources or [],
        "confidence": confidence,
        "requires_escalation": requires_escalation,
        "in_reply_to_id": in_reply_to_id,
        "internal": internal,
        "metadata": metadata or {},
        "attachments": [],
    }
    if (
        authorize is None
        and in_reply_to_id is None
        and not attachment_ids  # claiming uploads needs the session's lock
        and connections[router.db_for_write(Message)].vendor == "postgresql"
    ):
        stored = _persist_one_statement(
            session_id=session_id,
            refuse_if_closed=role in _HUMAN_ROLES and not internal,
            # A customer wakes a snoozed conversation: the general path does that.
            refuse_if_snoozed=role == MessageRole.CUSTOMER,
            fields=fields,
        )
        if stored is not None:
            message, status, handled_by = stored
            _after_commit(message, status=status, handled_by=handled_by)
            return MessageResult(message, created=True)
    with transaction.atomic():
        session = _session_locked(session_id)
        existing = _resent(session, client_msg_id)
        if existing is not None:
            return MessageResult(existing, created=False)
        if in_reply_to_id is not None:
            existing = Message.objects.filter(in_reply_to_id=in_reply_to_id).first()
            if existing is not None:
                return MessageResult(existing, created=False)
        if session.status == SessionStatus.CLOSED and role in _HUMAN_ROLES and not internal:
            if role != MessageRole.CUSTOMER:
                raise SessionClosed()
            # The customer wrote again soon after the close: the conversation reopens as it
            # was (SESSION_REOPEN_WITHIN; beyond it this raises SessionClosed, as before).
            session_reopen_on_customer_reply(session_id=session.pk)
            session = _session_locked(session_id)  # the reopen's note took a seq
        if authorize is not None:
            authorize(session)
        if role == MessageRole.CUSTOMER and session.snoozed_until is not None:
            # A snoozed conversation comes back to the inbox as soon as the customer writes.
            session_wake(session_id=session.pk, reason="customer")
            session = _session_locked(session_id)
        files = []
        if attachment_ids:
            kind = AttachmentKind.CUSTOMER if role == MessageRole.CUSTOMER else AttachmentKind.STAFF
            files = attachment_service.attachments_claim(
                session=session, attachment_ids=attachment_ids, kind=kind
            )

        now = timezone.now()
        session.last_seq += 1
        session.last_activity_at = now
        session.save(update_fields=["last_seq", "last_activity_at"])
        fields["attachments"] = [attachment_service.attachment_summary(f) for f in files]
        message = Message.objects.create(session=session, seq=session.last_seq, **fields)
        if files:
            attachment_service.attachments_link(message=message, attachments=files)
        _after_commit(message, status=session.status, handled_by=session.handled_by)
    return MessageResult(message, created=True)


def _after_commit(message: Message, *, status: str, handled_by: str) -> None:
    """Schedule what follows a stored message: broadcast, metric, domain signals.

    ``status`` and ``handled_by`` are the session's as seen under its row lock. Called inside
    the storing transaction or, on the one-statement path, right after it committed (then
    on_commit runs the callbacks at once, or at the commit of an enclosing transaction).
    """
    role = message.role
    answer_with_ai = (
        role == MessageRole.CUSTOMER and status == SessionStatus.OPEN and handled_by == HandledBy.AI
    )
    transaction.on_commit(lambda: message_broadcast(message=message))
    transaction.on_commit(lambda: MESSAGES.labels(role).inc())
    # Before the announcement below: with eager Celery (embedded mode) the AI's reply is
    # stored inside that callback, and its event must not overtake this one.
    send_after_commit(
        message_created,
        message_id=message.id,
        session_id=message.session_id,
        internal=message.internal,
        role=role,
    )
    if role == MessageRole.CUSTOMER:
        # robust: the row is committed whatever a receiver does after it (a broker outage
        # must not turn a stored message into a 500; the unanswered sweep catches up).
        transaction.on_commit(
            lambda: _customer_message_announce(message, awaits_ai=answer_with_ai),
            robust=True,
        )


def message_event(event_type: str, message: Message, *, for_staff: bool = False) -> dict:
    """Return a channel-layer event carrying the message's ``message`` frame, encoded once.

    Every socket of the group sends ``text`` as it is; ``seq`` is all a consumer reads (to
    keep its deliveries in order and once each).
    """
    return {
        "type": event_type,
        "session_id": str(message.session_id),
        "seq": message.seq,
        "text": message_frame(message_payload(message, for_staff=for_staff)),
    }


def message_broadcast(*, message: Message) -> None:
    """Send a stored message to the sockets that may see it (internal notes: staff only)."""
    staff_event = message_event("staff.message", message, for_staff=True)
    sends = [(realtime.session_staff_group(message.session_id), staff_event)]
    if not message.internal:
        sends.append(
            (realtime.session_group(message.session_id), message_event("chat.message", message))
        )
    sends.append(
        (
            realtime.AGENTS_GROUP,
            {"type": "inbox.message", "session_id": str(message.session_id), "seq": message.seq},
        )
    )
    realtime.group_send_many(sends)


def _customer_message_announce(message: Message, *, awaits_ai: bool) -> None:
    results = customer_message_stored.send_robust(
        sender=Message, message_id=message.pk, session_id=message.session_id, awaits_ai=awaits_ai
    )
    for receiver, result in results:
        if isinstance(result, Exception):
            logger.warning(
                "Receiver %s of customer_message_stored failed for message %s: %r",
                getattr(receiver, "__qualname__", receiver),
                message.pk,
                result,
            )


def timeline_note_store(
    sender,
    *,
    session: SupportSession,
    text: str,
    event: str,
    actor=None,
    metadata: dict | None = None,
    internal: bool = False,
    **kwargs,
) -> Message:
    """Store a lifecycle note (sessions_app's ``timeline_note_requested``) as a system message.

    ``internal`` notes (snooze, wake-up) are for staff only, like an agent's private note.
    """
    return message_create(
        session_id=session.pk,
        role=MessageRole.SYSTEM,
        content=text,
        author=actor,
        internal=internal,
        metadata=metadata or {"event": event},
    ).message


# --- Human agents ---------------------------------------------------------------------------


def _holder_only(user):
    """Return an ``authorize`` hook refusing a reply when another agent holds the session."""

    def check(session: SupportSession) -> None:
        if session.assignee_id is not None and session.assignee_id != getattr(user, "pk", None):
            raise AlreadyAssigned()

    return check


def agent_message_send(
    *,
    session_id: uuid.UUID | str,
    user,
    content: str,
    client_msg_id: str | None = None,
    attachment_ids: list | None = None,
) -> MessageResult:
    """Store a console agent's reply; replying to a session nobody holds takes it first.

    The take-over (with its timeline note "<name> took the conversation.") and the reply are
    one transaction: an invalid reply takes nothing over. Another agent's session is refused
    with AlreadyAssigned; a re-sent ``client_msg_id`` returns the stored reply.
    """
    return staff_reply_send(
        session_id=session_id,
        user=user,
        content=content,
        client_msg_id=client_msg_id,
        attachment_ids=attachment_ids,
    )


def staff_reply_send(
    *,
    session_id: uuid.UUID | str,
    user,
    content: str,
    client_msg_id: str | None = None,
    metadata: dict | None = None,
    attachment_ids: list | None = None,
) -> MessageResult:
    """Store a reply from a staff ``user`` (console or REST), or an API key (None).

    A staff user replying to a session no agent holds takes it over first (the AI stops), in
    the same transaction as the reply. An API key has no person to assign, so it replies to an
    unassigned session as it is. Either gets AlreadyAssigned when another agent holds the
    session. A re-sent ``client_msg_id`` returns the stored reply.
    """
    content = _validate_content(content, MessageRole.AGENT, has_attachments=bool(attachment_ids))
    with transaction.atomic():
        session = _session_locked(session_id)
        existing = _resent(session, client_msg_id)
        if existing is not None:
            return MessageResult(existing, created=False)
        if (
            user is not None
            and session.assignee_id is None
            and session.status != SessionStatus.CLOSED
        ):
            session_take_over(session_id=session.pk, user=user, by_reply=True)
        return message_create(
            session_id=session.pk,
            role=MessageRole.AGENT,
            content=content,
            client_msg_id=client_msg_id,
            author=user,
            metadata=metadata,
            authorize=_holder_only(user),
            attachment_ids=attachment_ids,
        )


def note_add(
    *,
    session_id: uuid.UUID | str,
    user,
    content: str,
    client_msg_id: str | None = None,
    metadata: dict | None = None,
) -> MessageResult:
    """Store a private note on the session: agents see it, the customer never does."""
    return message_create(
        session_id=session_id,
        role=MessageRole.SYSTEM,
        content=content,
        client_msg_id=client_msg_id,
        author=user,
        internal=True,
        metadata={**(metadata or {}), "event": "note"},
    )


# --- Connection registry --------------------------------------------------------------------


def connection_register(
    *, channel_name: str, kind: str, session_id=None, user_id=None
) -> Connection:
    """Record an open, authenticated socket."""
    now = timezone.now()
    connection, _ = Connection.objects.update_or_create(
        channel_name=channel_name,
        defaults={
            "kind": kind,
            "session_id": session_id,
            "user_id": user_id,
            "last_seen_at": now,
        },
    )
    return connection


def connection_heartbeat(*, channel_name: str) -> bool:
    """Mark a socket as alive now; return False if its row is gone (it was cleaned up)."""
    return bool(
        Connection.objects.filter(channel_name=channel_name).update(last_seen_at=timezone.now())
    )


def connection_remove(*, channel_name: str) -> None:
    """Forget a socket that disconnected."""
    Connection.objects.filter(channel_name=channel_name).delete()


def connections_cleanup_stale(*, stale_after_seconds: float | None = None) -> int:
    """Delete connections silent for longer than CHAT_STALE_AFTER and tell them to close.

    Returns how many were removed. Each socket gets a `connection.stale` event and closes
    with 4000 if its process is still alive; if not, the row was all that was left of it.
    """
    if stale_after_seconds is None:
        stale_after_seconds = float(app_setting("CHAT_STALE_AFTER"))
    cutoff = timezone.now() - timedelta(seconds=stale_after_seconds)
    stale = list(
        Connection.objects.filter(last_seen_at__lt=cutoff).values_list("pk", "channel_name")
    )
    if not stale:
        return 0
    Connection.objects.filter(pk__in=[pk for pk, _ in stale]).delete()
    for _, channel_name in stale:
        realtime.channel_send(channel_name, {"type": "connection.stale"})
    logger.info("Removed %d stale connections", len(stale))
    return len(stale)
