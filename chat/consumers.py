"""WebSocket consumers: transport only — validate frames, call services, relay events."""

from __future__ import annotations

import asyncio
import enum
import logging
import uuid
from importlib import import_module

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.db import InterfaceError, OperationalError
from django.utils.crypto import constant_time_compare
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from sessions_app import selectors as session_selectors
from sessions_app import services as session_services
from sessions_app.exceptions import (
    InvalidSessionId,
    SessionClosed,
    SessionError,
    SessionNotFound,
    SessionTokenInvalid,
)
from sessions_app.models import Priority
from sessions_app.serializers import session_payload, user_display_name
from supportdesk import realtime
from supportdesk.conf import app_setting, parse_rate
from supportdesk.logging import context_id
from supportdesk.metrics import RATE_LIMIT_HITS, WS_CLOSES, WS_ERRORS

from . import frames, selectors, services
from .exceptions import MessageRejected
from .inbox_feed import inbox_feed
from .models import CannedResponse, ConnectionKind, MessageRole
from .ratelimit import SlidingWindowLimiter
from .serializers import frame_text, inbox_summary, message_frame, message_payload
from .signals import agent_connected

logger = logging.getLogger(__name__)


async def run_db(function, /, *args, **kwargs):
    """Run ORM code in a worker thread and return its result.

    Not Channels' default single shared thread: there, every socket of the process waits
    for every other socket's queries (measured: docs/performance.md). Each pool thread keeps
    its own connection, closed or reused per CONN_MAX_AGE as usual.
    """
    return await database_sync_to_async(function, thread_sensitive=False)(*args, **kwargs)


def _is_outage(error: BaseException) -> bool:
    """Return whether ``error`` is a database or Redis outage rather than a bug."""
    return isinstance(
        error, (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError, OSError)
    )


class CloseCode(enum.IntEnum):
    """WebSocket close codes of the protocol (DESIGN.md)."""

    NORMAL = 1000
    GOING_AWAY = 1001
    TOO_BIG = 1009
    INTERNAL_ERROR = 1011
    STALE = 4000
    INVALID_SESSION_ID = 4001
    FORBIDDEN = 4003
    SESSION_NOT_FOUND = 4004
    AUTH_TIMEOUT = 4008
    ABUSE = 4029


class Phase(enum.Enum):
    """Where a socket is in its life. Compared by member, never by a bare number."""

    CONNECTING = "connecting"  # handshake received, not accepted yet: nothing may be sent
    AWAITING_AUTH = "awaiting_auth"  # accepted, waiting for the auth frame
    READY = "ready"  # authenticated: frames flow both ways
    CLOSED = "closed"  # close sent or received: nothing more is sent


class SocketNotOpen(RuntimeError):
    """Raised when code tries to send on a socket that is not accepted or already closed."""


class SupportConsumer(AsyncJsonWebsocketConsumer):
    """Shared transport rules: size cap, JSON errors, rate limit, heartbeat, cleanup."""

    connection_kind: str = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.phase = Phase.CONNECTING
        self.connection_id = uuid.uuid4().hex[:12]
        self.joined_groups: set[str] = set()
        self.registered = False
        self.strikes = 0
        self.limiter = SlidingWindowLimiter(parse_rate(str(app_setting("CHAT_RATE_LIMIT"))))
        self._auth_deadline: asyncio.Task | None = None
        self._last_heartbeat = 0.0
        # The highest seq sent to this client for the conversation it follows.
        self.delivered_seq = 0

    # --- sending and closing: only ever on an accepted, open socket --------------------------

    async def accept(self, subprotocol=None, headers=None):
        if self.phase is not Phase.CONNECTING:
            raise SocketNotOpen(f"accept() in phase {self.phase.value}")
        await super().accept(subprotocol, headers)
        self.phase = Phase.AWAITING_AUTH

    async def send_frame(self, frame: dict) -> None:
        """Send one JSON frame; refuses before accept and after close."""
        if self.phase not in (Phase.AWAITING_AUTH, Phase.READY):
            raise SocketNotOpen(f"send of {frame.get('type')!r} in phase {self.phase.value}")
        await self.send(text_data=frame_text(frame))

    async def send_error(self, code: str, detail: str) -> None:
        """Send an `error` frame (the socket stays open) and count it."""
        WS_ERRORS.labels(code).inc()
        await self.send_frame({"type": "error", "code": code, "detail": detail})

    async def close(self, code=None, reason=None):
        if self.phase is Phase.CLOSED:
            return
        self.phase = Phase.CLOSED
        WS_CLOSES.labels(str(int(code) if code is not None else 1000)).inc()
        # A plain int: Daphne's autobahn refuses an IntEnum and closes with 1011 instead.
        await super().close(code=int(code) if code is not None else None, reason=reason)

    # --- lifecycle ----------------------------------------------------------------------------

    async def websocket_connect(self, message):
        context_id.set(f"ws:{self.connection_id}")
        await super().websocket_connect(message)

    async def start_auth_deadline(self) -> None:
        self._auth_deadline = asyncio.create_task(self._close_if_not_authenticated())

    async def _close_if_not_authenticated(self) -> None:
        await asyncio.sleep(float(app_setting("CHAT_AUTH_TIMEOUT")))
        if self.phase is Phase.AWAITING_AUTH:
            logger.info("No auth frame in time; closing")
            await self.close(code=CloseCode.AUTH_TIMEOUT)

    async def join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.joined_groups.add(group)

    async def leave(self, group: str) -> None:
        self.joined_groups.discard(group)
        await self.channel_layer.group_discard(group, self.channel_name)

    async def websocket_disconnect(self, message):
        context_id.set(f"ws:{self.connection_id}")
        code = message.get("code")
        self.phase = Phase.CLOSED
        await self._forget()
        # A client closing or vanishing is ordinary life for a chat server, not an error.
        logger.debug("Socket disconnected (code %s)", code)
        await super().websocket_disconnect(message)

    async def _forget(self) -> None:
        """Leave every group and remove the row, so nothing of this socket outlives it."""
        if self._auth_deadline is not None:
            self._auth_deadline.cancel()
            self._auth_deadline = None
        # One failure (a Redis hiccup) must not stop the rest of the clean-up.
        for group in list(self.joined_groups):
            try:
                await self.leave(group)
            except Exception:
                logger.warning("Could not leave group %s on disconnect", group, exc_info=True)
        if self.registered:
            try:
                await run_db(services.connection_remove, channel_name=self.channel_name)
                self.registered = False
            except Exception:
                # The stale sweep removes the row later.
                logger.warning("Could not remove the connection row", exc_info=True)

    # --- receiving ----------------------------------------------------------------------------

    async def websocket_receive(self, message):
        context_id.set(f"ws:{self.connection_id}")
        if self.phase not in (Phase.AWAITING_AUTH, Phase.READY):
            return
        # Every frame counts, before anything else is done with it: invalid JSON, binary
        # and unknown types cost the server as much as valid ones (issue 9, finding 2).
        if not self.limiter.allow():
            await self._rate_limited()
            return
        self.strikes = 0
        text = message.get("text")
        if text is None:
            await self.send_error("invalid_json", "binary frames are not supported")
            return
        limit = int(app_setting("CHAT_MAX_FRAME_BYTES"))
        # Daphne refuses such frames at the transport (supportdesk/serve.py); this guards
        # other ASGI servers and the test communicator.
        if len(text) * 4 > limit and len(text.encode("utf-8", "surrogatepass")) > limit:
            logger.info("Frame over %d bytes; closing", limit)
            await self.close(code=CloseCode.TOO_BIG)
            return
        try:
            frame = frames.decode(text)
        except frames.FrameError as error:
            await self.send_error(error.code, error.detail)
            return
        await self.dispatch_frame(frame)

    async def dispatch_frame(self, frame) -> None:
        """Validate and handle one decoded frame; only an outage escapes, after the clean-up."""
        try:
            kind = frames.frame_type(frame)
            await self.heartbeat()
            if self.phase is Phase.AWAITING_AUTH:
                if kind != "auth":
                    raise frames.FrameError("invalid_field", "send an 'auth' frame first")
                await self.handle_auth(frame)
                return
            handler = self.frame_handlers().get(kind)
            if handler is None:
                raise frames.FrameError("unknown_type", f"unknown frame type {kind!r}")
            await self.before_handler(kind)
            if self.phase is Phase.READY:
                await handler(frame)
        except frames.FrameError as error:
            if self.phase in (Phase.AWAITING_AUTH, Phase.READY):
                await self.send_error(error.code, error.detail)
        except Exception as error:
            await self._handler_failed(error)

    async def before_handler(self, kind: str) -> None:
        """Hook run before a frame's handler once authenticated (the agent re-checks staff)."""

    async def _handler_failed(self, error: Exception) -> None:
        """Clean up after an unexpected exception in a frame handler, then close or re-raise.

        Without this the exception reached Daphne, which closed with 1011 and never ran
        websocket_disconnect: the Connection row and group memberships outlived the socket.
        An outage of the database or Redis is re-raised (after the clean-up) so the ASGI
        outage wrapper can answer it with its own close code; anything else is a bug: logged
        once with its traceback and closed with 1011.
        """
        await self._forget()
        if _is_outage(error):
            self.phase = Phase.CLOSED
            raise error
        logger.error("Frame handler failed; closing the socket", exc_info=error)
        await self.close(code=CloseCode.INTERNAL_ERROR)

    async def _rate_limited(self) -> None:
        self.strikes += 1
        RATE_LIMIT_HITS.labels("ws_frame").inc()
        if self.strikes >= int(app_setting("CHAT_RATE_LIMIT_STRIKES")):
            # A client's own abuse, handled as designed: not a server fault, so INFO.
            logger.info("Closing socket after %d rate-limit strikes", self.strikes)
            await self.close(code=CloseCode.ABUSE)
            return
        await self.send_error("rate_limited", "too many frames; slow down")

    async def heartbeat(self) -> None:
        """Refresh the connection row's last_seen_at, at most every few seconds."""
        if not self.registered:
            return
        now = asyncio.get_running_loop().time()
        if now - self._last_heartbeat < float(app_setting("CHAT_HEARTBEAT_WRITE_EVERY")):
            return
        self._last_heartbeat = now
        await run_db(services.connection_heartbeat, channel_name=self.channel_name)

    async def register(self, *, session_id=None, user_id=None) -> None:
        await run_db(
            services.connection_register,
            channel_name=self.channel_name,
            kind=self.connection_kind,
            session_id=session_id,
            user_id=user_id,
        )
        self.registered = True
        self._last_heartbeat = asyncio.get_running_loop().time()

    def frame_handlers(self) -> dict:
        return {"ping": self.handle_ping}

    async def handle_auth(self, frame: dict) -> None:
        raise NotImplementedError

    async def handle_ping(self, frame: dict) -> None:
        await self.send_frame({"type": "pong"})

    # --- ordered delivery of a conversation's messages -----------------------------------------

    async def _deliver(self, payload: dict) -> None:
        await self._deliver_text(payload["seq"], message_frame(payload))

    async def _deliver_text(self, seq: int, text: str) -> None:
        """Send an encoded ``message`` frame (the same string for every socket of a group)."""
        if self.phase not in (Phase.AWAITING_AUTH, Phase.READY):
            raise SocketNotOpen(f"send of 'message' in phase {self.phase.value}")
        self.delivered_seq = max(self.delivered_seq, seq)
        await self.send(text_data=text)

    async def deliver_in_order(
        self, event: dict, *, session_id: uuid.UUID, for_staff: bool = False
    ) -> None:
        """Send a live message (a message_event) once and in seq order, after any it overtook."""
        seq = event["seq"]
        if seq <= self.delivered_seq:
            return  # already delivered by the backlog or an earlier event
        if seq > self.delivered_seq + 1:
            # Broadcasts from different processes can overtake each other: fill the gap
            # from the database so the client sees every message, in order, once.
            first = self.delivered_seq + 1
            missing = await run_db(
                lambda: [
                    message_payload(m, for_staff=for_staff)
                    for m in selectors.messages_between(
                        session_id=session_id,
                        first_seq=first,
                        last_seq=seq - 1,
                        include_internal=for_staff,
                    )
                ]
            )
            for earlier in missing:
                await self._deliver(earlier)
        await self._deliver_text(seq, event["text"])

    # --- events from the channel layer ----------------------------------------------------------

    async def connection_stale(self, event: dict) -> None:
        """The stale-connection sweep removed our row: close so the client reconnects."""
        self.registered = False
        await self.close(code=CloseCode.STALE)


class CustomerConsumer(SupportConsumer):
    """The customer's socket on one session: /ws/sessions/{session_id}/."""

    connection_kind = ConnectionKind.CUSTOMER

    async def connect(self):
        await self.accept()
        raw_id = self.scope["url_route"]["kwargs"].get("session_id")
        try:
            self.session_id = session_selectors.parse_session_id(raw_id)
        except InvalidSessionId:
            # Rejected before any query: "undefined" never reaches the database.
            await self.close(code=CloseCode.INVALID_SESSION_ID)
            return
        await self.start_auth_deadline()

    def frame_handlers(self) -> dict:
        return {
            "ping": self.handle_ping,
            "message": self.handle_message,
            "typing": self.handle_typing,
            "read": self.handle_read,
        }

    async def handle_auth(self, frame: dict) -> None:
        auth = frames.parse_auth(frame)
        try:
            session = await run_db(
                session_selectors.session_for_customer, session_id=self.session_id, token=auth.token
            )
        except SessionNotFound:
            await self.close(code=CloseCode.SESSION_NOT_FOUND)
            return
        except SessionTokenInvalid:
            await self.close(code=CloseCode.FORBIDDEN)
            return
        # Join before reading the backlog: a message committed meanwhile arrives live and the
        # seq check in chat_message drops whatever the backlog already delivered.
        await self.join(realtime.session_group(self.session_id))
        await self.register(session_id=self.session_id)
        start = min(auth.last_seq, session.last_seq)
        backlog, session_data = await run_db(self._backlog, start)
        self.phase = Phase.READY
        if self._auth_deadline is not None:
            self._auth_deadline.cancel()
        await self.send_frame({"type": "ready", "session": session_data, "last_seq": start})
        self.delivered_seq = start
        for payload in backlog:
            await self._deliver(payload)

    def _backlog(self, start: int) -> tuple[list[dict], dict]:
        session = session_selectors.session_get(session_id=self.session_id)
        messages = selectors.messages_for_session(session_id=self.session_id, after_seq=start)
        return [message_payload(m) for m in messages], session_payload(session, for_staff=False)

    async def handle_message(self, frame: dict) -> None:
        parsed = frames.parse_message(frame)
        try:
            result = await run_db(
                services.message_create,
                session_id=self.session_id,
                role=MessageRole.CUSTOMER,
                content=parsed.content,
                client_msg_id=parsed.client_msg_id,
                attachment_ids=list(parsed.attachments),
            )
        except MessageRejected as error:
            raise frames.FrameError(error.code, error.detail) from None
        except SessionClosed:
            raise frames.FrameError("session_closed", "this conversation is closed") from None
        message = result.message
        await self.send_frame(
            {
                "type": "ack",
                "client_msg_id": message.client_msg_id,
                "seq": message.seq,
                "id": str(message.id),
            }
        )

    async def handle_typing(self, frame: dict) -> None:
        is_typing = frames.parse_typing(frame)
        await self.channel_layer.group_send(
            realtime.session_group(self.session_id),
            {
                "type": "chat.typing",
                "session_id": str(self.session_id),
                "role": "customer",
                "is_typing": is_typing,
                "sender": self.channel_name,
            },
        )

    async def handle_read(self, frame: dict) -> None:
        seq = frames.parse_read(frame)
        await self.channel_layer.group_send(
            realtime.session_group(self.session_id),
            {
                "type": "chat.read",
                "session_id": str(self.session_id),
                "role": "customer",
                "seq": seq,
                "sender": self.channel_name,
            },
        )

    # --- events from the session group ------------------------------------------------------

    async def chat_message(self, event: dict) -> None:
        if self.phase is Phase.READY:
            await self.deliver_in_order(event, session_id=self.session_id)

    async def session_updated(self, event: dict) -> None:
        if self.phase is Phase.READY:
            await self.send_frame({"type": "session", "session": event["session"]})

    async def agent_status(self, event: dict) -> None:
        if self.phase is Phase.READY:
            await self.send_frame({"type": "agent_status", "state": event["state"]})

    async def agent_stream(self, event: dict) -> None:
        if self.phase is Phase.READY:
            await self.send_frame(
                {"type": "stream", "reply_to": event["reply_to"], "delta": event["delta"]}
            )

    async def chat_typing(self, event: dict) -> None:
        if self.phase is Phase.READY and event.get("sender") != self.channel_name:
            await self.send_frame(
                {"type": "typing", "role": event["role"], "is_typing": event["is_typing"]}
            )

    async def chat_read(self, event: dict) -> None:
        if self.phase is Phase.READY and event.get("sender") != self.channel_name:
            await self.send_frame({"type": "read", "role": event["role"], "seq": event["seq"]})

    async def agent_presence(self, event: dict) -> None:
        """A human agent opened or left this conversation in the console."""
        if self.phase is Phase.READY:
            await self.send_frame(
                {
                    "type": "presence",
                    "role": "agent",
                    "name": event["name"],
                    "present": event["present"],
                }
            )


class AgentConsumer(SupportConsumer):
    """A human agent's console socket: /ws/agent/ (Django session cookie, staff only)."""

    connection_kind = ConnectionKind.AGENT

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = None
        self.user_name = ""
        self.joined_session: uuid.UUID | None = None
        self._staff_checked_at = 0.0

    async def connect(self):
        await self.accept()
        user = self.scope.get("user")
        if not (user and user.is_authenticated and user.is_active and user.is_staff):
            await self.close(code=CloseCode.FORBIDDEN)
            return
        self.user = user
        self.user_name = user_display_name(user)
        self._staff_checked_at = asyncio.get_running_loop().time()
        # Logout or deactivation closes this socket through this group (chat/revocation.py).
        await self.join(realtime.agent_user_group(user.pk))
        await self.join(realtime.AGENTS_GROUP)
        await self.register(user_id=user.pk)
        self.phase = Phase.READY
        agents, canned = await run_db(self._ready_data)
        await self.send_frame(
            {
                "type": "ready",
                "user": {"id": user.pk, "name": self.user_name},
                "agents": agents,
                "canned": canned,
            }
        )
        await self.send_inbox("all", "")
        inbox_feed().subscribe(self, self._send_inbox_updates)
        await self.channel_layer.group_send(realtime.AGENTS_GROUP, {"type": "presence.changed"})
        # After "ready": an assignment this triggers reaches this socket as an `assigned` frame.
        await run_db(_announce_agent_connected, user.pk)

    def _ready_data(self) -> tuple[list[dict], list[dict]]:
        canned = list(CannedResponse.objects.values("id", "shortcut", "title", "body"))
        return selectors.agents_online(), canned

    async def websocket_disconnect(self, message):
        inbox_feed().unsubscribe(self)
        joined, was_ready = self.joined_session, self.user is not None
        await super().websocket_disconnect(message)
        if not was_ready:
            return
        if joined is not None:
            await self._announce_presence(joined, present=False)
        await self.channel_layer.group_send(realtime.AGENTS_GROUP, {"type": "presence.changed"})

    async def before_handler(self, kind: str) -> None:
        """Re-check, at most every CHAT_AGENT_RECHECK_SECONDS, that the user may still act.

        Logout and deactivation close the socket at once (agent_revoke); this catches an
        event that never arrived (a channel-layer hiccup), so powers cannot outlive them.
        """
        if kind == "ping":
            return
        now = asyncio.get_running_loop().time()
        if now - self._staff_checked_at < float(app_setting("CHAT_AGENT_RECHECK_SECONDS")):
            return
        if await run_db(self._still_staff):
            self._staff_checked_at = now
            return
        logger.info("Agent %s is no longer signed-in staff; closing", self.user.pk)
        await self.close(code=CloseCode.FORBIDDEN)

    def _still_staff(self) -> bool:
        """Return whether the user is active staff and this socket's login session lives."""
        user = get_user_model().objects.filter(pk=self.user.pk).first()
        if user is None or not (user.is_active and user.is_staff):
            return False
        session_key = getattr(self.scope.get("session"), "session_key", None)
        if session_key is None:
            return False
        store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
        if str(store.get(SESSION_KEY)) != str(user.pk):
            return False  # logged out (the session was flushed) or another user's session
        session_hash = store.get(HASH_SESSION_KEY) or ""
        # A password change invalidates other sessions, as Django's own get_user() does.
        return constant_time_compare(session_hash, user.get_session_auth_hash())

    async def agent_revoke(self, event: dict) -> None:
        """The user logged out or lost staff rights: close with 4003 (chat/revocation.py)."""
        session_key = event.get("session_key")
        own_key = getattr(self.scope.get("session"), "session_key", None)
        if session_key is not None and session_key != own_key:
            return  # a logout in another browser: that login session only
        logger.info("Closing agent socket: %s", event.get("reason", "revoked"))
        await self.close(code=CloseCode.FORBIDDEN)

    def frame_handlers(self) -> dict:
        return {
            "ping": self.handle_ping,
            "inbox": self.handle_inbox,
            "join": self.handle_join,
            "leave": self.handle_leave,
            "message": self.handle_message,
            "note": self.handle_note,
            "take_over": self.handle_lifecycle,
            "release": self.handle_lifecycle,
            "close": self.handle_lifecycle,
            "assign": self.handle_lifecycle,
            "reopen": self.handle_lifecycle,
            "typing": self.handle_typing,
            "read": self.handle_read,
        }

    # --- frames -------------------------------------------------------------------------------

    async def send_inbox(self, filter_name: str, search: str, **narrow: str) -> None:
        rows = await run_db(self._inbox, filter_name, search, **narrow)
        await self.send_frame({"type": "inbox", "sessions": rows})

    def _inbox(self, filter_name: str, search: str, label: str = "", priority: str = "") -> list:
        queryset = selectors.inbox_sessions(
            user=self.user, filter_name=filter_name, search=search, label=label, priority=priority
        )
        return [inbox_summary(s) for s in queryset[: selectors.INBOX_LIMIT]]

    async def handle_inbox(self, frame: dict) -> None:
        filter_name = frame.get("filter", "all")
        if filter_name not in selectors.INBOX_FILTERS:
            raise frames.FrameError(
                "invalid_field", f"'filter' must be one of {selectors.INBOX_FILTERS}"
            )
        search = frame.get("search", "")
        if not isinstance(search, str) or len(search) > 200:
            raise frames.FrameError(
                "invalid_field", "'search' must be a string of ≤ 200 characters"
            )
        label = frame.get("label", "") or ""
        if not isinstance(label, str) or len(label) > 40:
            raise frames.FrameError("invalid_field", "'label' must be a label name (≤ 40)")
        priority = frame.get("priority", "") or ""
        if priority not in ("", *Priority.values):
            raise frames.FrameError(
                "invalid_field", f"'priority' must be one of {tuple(Priority.values)}"
            )
        await self.send_inbox(filter_name, search, label=label, priority=priority)

    def _session_ref(self, frame: dict) -> uuid.UUID:
        try:
            return session_selectors.parse_session_id(frames.parse_session_ref(frame))
        except InvalidSessionId:
            raise frames.FrameError(
                "invalid_field", "'session_id' must be a session UUID"
            ) from None

    async def handle_join(self, frame: dict) -> None:
        session_id = self._session_ref(frame)
        last_seq = frames.parse_seq(frame, "last_seq", default=0)
        if self.joined_session is not None and self.joined_session != session_id:
            await self._leave_session()
        try:
            session = await run_db(session_selectors.session_get, session_id=session_id)
        except SessionNotFound:
            raise frames.FrameError("not_found", "no such session") from None
        # Join before reading the backlog, as the customer socket does: nothing falls between.
        await self.join(realtime.session_group(session_id))
        await self.join(realtime.session_staff_group(session_id))
        self.joined_session = session_id
        start = min(last_seq, session.last_seq)
        backlog, session_data = await run_db(self._backlog, session_id, start)
        self.delivered_seq = start
        await self.send_frame({"type": "session", "session": session_data})
        for payload in backlog:
            await self._deliver(payload)
        await self.send_frame({"type": "joined", "session_id": str(session_id)})
        await self._announce_presence(session_id, present=True)

    def _backlog(self, session_id: uuid.UUID, start: int) -> tuple[list[dict], dict]:
        session = session_selectors.session_get(session_id=session_id)
        messages = selectors.messages_for_session(
            session_id=session_id, after_seq=start, include_internal=True
        )
        return [message_payload(m, for_staff=True) for m in messages], session_payload(session)

    async def handle_leave(self, frame: dict) -> None:
        session_id = self._session_ref(frame)
        if self.joined_session == session_id:
            await self._leave_session()

    async def _leave_session(self) -> None:
        session_id, self.joined_session = self.joined_session, None
        await self.leave(realtime.session_group(session_id))
        await self.leave(realtime.session_staff_group(session_id))
        await self._announce_presence(session_id, present=False)

    async def _announce_presence(self, session_id: uuid.UUID, *, present: bool) -> None:
        await self.channel_layer.group_send(
            realtime.session_group(session_id),
            {"type": "agent.presence", "name": self.user_name, "present": present},
        )

    async def _write(self, function, frame: dict, **kwargs):
        """Run a service for a frame, turning domain errors into error frames."""
        try:
            return await run_db(function, **kwargs)
        except MessageRejected as error:
            raise frames.FrameError(error.code, error.detail) from None
        except SessionError as error:
            code = "not_found" if isinstance(error, SessionNotFound) else error.code
            raise frames.FrameError(code, error.detail) from None

    async def _send_ack(self, session_id: uuid.UUID, message) -> None:
        await self.send_frame(
            {
                "type": "ack",
                "session_id": str(session_id),
                "client_msg_id": message.client_msg_id,
                "seq": message.seq,
                "id": str(message.id),
            }
        )

    async def handle_message(self, frame: dict) -> None:
        await self._post(services.agent_message_send, frame)

    async def handle_note(self, frame: dict) -> None:
        await self._post(services.note_add, frame)

    async def _post(self, service, frame: dict) -> None:
        """Store a reply or a note through ``service`` and acknowledge it."""
        session_id = self._session_ref(frame)
        parsed = frames.parse_message(frame)
        extra = {}
        if parsed.attachments:
            if service is not services.agent_message_send:
                raise frames.FrameError("invalid_field", "internal notes carry no attachments")
            extra["attachment_ids"] = list(parsed.attachments)
        result = await self._write(
            service,
            frame,
            session_id=session_id,
            user=self.user,
            content=parsed.content,
            client_msg_id=parsed.client_msg_id,
            **extra,
        )
        await self._send_ack(session_id, result.message)

    async def handle_lifecycle(self, frame: dict) -> None:
        session_id = self._session_ref(frame)
        kind = frame["type"]
        if kind == "take_over":
            await self._write(
                session_services.session_take_over, frame, session_id=session_id, user=self.user
            )
        elif kind == "release":
            await self._write(
                session_services.session_release, frame, session_id=session_id, actor=self.user
            )
        elif kind == "close":
            await self._write(
                session_services.session_close, frame, session_id=session_id, actor=self.user
            )
        elif kind == "reopen":
            # The console's Undo after a close, or a deliberate reopen: restores what was.
            await self._write(
                session_services.session_reopen, frame, session_id=session_id, actor=self.user
            )
        else:
            user_id = frames.parse_id(frame, "user_id")
            assignee = await run_db(_staff_user, user_id)
            if assignee is None:
                raise frames.FrameError("invalid_field", "'user_id' is not a staff user")
            await self._write(
                session_services.session_assign,
                frame,
                session_id=session_id,
                assignee=assignee,
                actor=self.user,
            )

    async def handle_typing(self, frame: dict) -> None:
        session_id = self._session_ref(frame)
        is_typing = frames.parse_typing(frame)
        await self.channel_layer.group_send(
            realtime.session_group(session_id),
            {
                "type": "chat.typing",
                "session_id": str(session_id),
                "role": "agent",
                "is_typing": is_typing,
                "sender": self.channel_name,
            },
        )

    async def handle_read(self, frame: dict) -> None:
        session_id = self._session_ref(frame)
        seq = frames.parse_read(frame)
        await self.channel_layer.group_send(
            realtime.session_group(session_id),
            {
                "type": "chat.read",
                "session_id": str(session_id),
                "role": "agent",
                "seq": seq,
                "sender": self.channel_name,
            },
        )

    # --- events ---------------------------------------------------------------------------------

    async def staff_message(self, event: dict) -> None:
        if self.phase is Phase.READY and event["session_id"] == str(self.joined_session):
            await self.deliver_in_order(event, session_id=self.joined_session, for_staff=True)

    async def chat_message(self, event: dict) -> None:
        """The customer-facing copy of a message; agents get the staff copy instead."""

    async def _summary(self, session_id) -> dict | None:
        session = await run_db(selectors.inbox_session, session_id=session_id)
        return inbox_summary(session) if session is not None else None

    async def session_updated(self, event: dict) -> None:
        if self.phase is not Phase.READY or not event.get("for_staff"):
            return  # the customer's copy (from the joined session's group): staff copy follows
        session = event["session"]
        if session["id"] == str(self.joined_session):
            await self.send_frame({"type": "session", "session": session})
        summary = await self._summary(session["id"])
        if summary is not None:
            await self.send_frame({"type": "inbox_update", "session": summary})

    async def inbox_message(self, event: dict) -> None:
        """A message arrived somewhere: its inbox row comes from this process's shared feed.

        Every message reaches every agent socket; the feed (chat/inbox_feed.py) fetches the
        rows touched within a short window once per process, not once per socket.
        """
        if self.phase is Phase.READY:
            inbox_feed().touch(event["session_id"])

    async def _send_inbox_updates(self, texts: list[str]) -> None:
        if self.phase is Phase.READY:
            for text in texts:
                await self.send(text_data=text)

    async def session_escalated(self, event: dict) -> None:
        if self.phase is not Phase.READY:
            return
        summary = await self._summary(event["session_id"])
        if summary is not None:
            await self.send_frame(
                {"type": "escalation", "session": summary, "reason": event.get("reason", "")}
            )

    async def agent_assigned(self, event: dict) -> None:
        """A conversation was routed to this agent (sent to the agent's own group)."""
        if self.phase is not Phase.READY:
            return
        summary = await self._summary(event["session_id"])
        if summary is not None:
            await self.send_frame({"type": "assigned", "session": summary})

    async def presence_changed(self, event: dict) -> None:
        if self.phase is Phase.READY:
            agents = await run_db(selectors.agents_online)
            await self.send_frame({"type": "presence", "agents": agents})

    async def chat_typing(self, event: dict) -> None:
        if self.phase is Phase.READY and event.get("role") == "customer":
            await self.send_frame(
                {
                    "type": "typing",
                    "session_id": event.get("session_id"),
                    "role": "customer",
                    "is_typing": event["is_typing"],
                }
            )

    async def chat_read(self, event: dict) -> None:
        if self.phase is Phase.READY and event.get("role") == "customer":
            await self.send_frame(
                {
                    "type": "read",
                    "session_id": event.get("session_id"),
                    "role": "customer",
                    "seq": event["seq"],
                }
            )

    async def agent_status(self, event: dict) -> None:
        """The AI's thinking/idle state: shown to the customer only."""

    async def agent_stream(self, event: dict) -> None:
        """The AI's streamed deltas: the console shows the final message only."""

    async def agent_presence(self, event: dict) -> None:
        """Agents' presence in a conversation is for the customer's page."""


def _announce_agent_connected(user_id: int) -> None:
    for receiver, result in agent_connected.send_robust(sender=AgentConsumer, user_id=user_id):
        if isinstance(result, Exception):
            logger.warning("Receiver %r of agent_connected failed: %r", receiver, result)


def _staff_user(user_id: int):
    return get_user_model().objects.filter(pk=user_id, is_staff=True, is_active=True).first()
