"""WebSocket consumers: transport only — validate frames, call services, relay events."""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import uuid

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from sessions_app import selectors as session_selectors
from sessions_app.exceptions import (
    InvalidSessionId,
    SessionClosed,
    SessionNotFound,
    SessionTokenInvalid,
)
from sessions_app.serializers import session_payload
from supportdesk import realtime
from supportdesk.conf import app_setting, parse_rate
from supportdesk.logging import context_id

from . import frames, selectors, services
from .exceptions import MessageRejected
from .models import ConnectionKind, MessageRole
from .ratelimit import SlidingWindowLimiter

logger = logging.getLogger(__name__)


class CloseCode(enum.IntEnum):
    """WebSocket close codes of the protocol (DESIGN.md)."""

    NORMAL = 1000
    GOING_AWAY = 1001
    TOO_BIG = 1009
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
        await self.send(text_data=json.dumps(frame, separators=(",", ":")))

    async def send_error(self, code: str, detail: str) -> None:
        await self.send_frame({"type": "error", "code": code, "detail": detail})

    async def close(self, code=None, reason=None):
        if self.phase is Phase.CLOSED:
            return
        self.phase = Phase.CLOSED
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
        if self._auth_deadline is not None:
            self._auth_deadline.cancel()
            self._auth_deadline = None
        # Leave every group and forget the row, so nothing of this socket outlives it.
        for group in list(self.joined_groups):
            await self.leave(group)
        if self.registered:
            await database_sync_to_async(services.connection_remove)(channel_name=self.channel_name)
            self.registered = False
        # A client closing or vanishing is ordinary life for a chat server, not an error.
        logger.debug("Socket disconnected (code %s)", code)
        await super().websocket_disconnect(message)

    # --- receiving ----------------------------------------------------------------------------

    async def websocket_receive(self, message):
        context_id.set(f"ws:{self.connection_id}")
        if self.phase not in (Phase.AWAITING_AUTH, Phase.READY):
            return
        text = message.get("text")
        if text is None:
            await self.send_error("invalid_json", "binary frames are not supported")
            return
        limit = int(app_setting("CHAT_MAX_FRAME_BYTES"))
        # Daphne refuses such frames at the transport (supportdesk/serve.py); this guards
        # other ASGI servers and the test communicator.
        if len(text) * 4 > limit and len(text.encode("utf-8")) > limit:
            logger.info("Frame over %d bytes; closing", limit)
            await self.close(code=CloseCode.TOO_BIG)
            return
        try:
            frame = json.loads(text)
        except ValueError:
            await self.send_error("invalid_json", "the frame is not valid JSON")
            return
        await self.dispatch_frame(frame)

    async def dispatch_frame(self, frame) -> None:
        try:
            kind = frames.frame_type(frame)
            if not self.limiter.allow():
                await self._rate_limited()
                return
            self.strikes = 0
            await self.heartbeat()
            if self.phase is Phase.AWAITING_AUTH:
                if kind != "auth":
                    raise frames.FrameError("invalid_field", "send an 'auth' frame first")
                await self.handle_auth(frame)
                return
            handler = self.frame_handlers().get(kind)
            if handler is None:
                raise frames.FrameError("unknown_type", f"unknown frame type {kind!r}")
            await handler(frame)
        except frames.FrameError as error:
            await self.send_error(error.code, error.detail)

    async def _rate_limited(self) -> None:
        self.strikes += 1
        if self.strikes >= int(app_setting("CHAT_RATE_LIMIT_STRIKES")):
            logger.warning("Closing socket after %d rate-limit strikes", self.strikes)
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
        await database_sync_to_async(services.connection_heartbeat)(channel_name=self.channel_name)

    async def register(self, *, session_id=None, user_id=None) -> None:
        await database_sync_to_async(services.connection_register)(
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
        self.delivered_seq = 0
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
            session = await database_sync_to_async(session_selectors.session_for_customer)(
                session_id=self.session_id, token=auth.token
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
        backlog, session_data = await database_sync_to_async(self._backlog)(start)
        self.phase = Phase.READY
        if self._auth_deadline is not None:
            self._auth_deadline.cancel()
        await self.send_frame({"type": "ready", "session": session_data, "last_seq": start})
        self.delivered_seq = start
        for payload in backlog:
            await self._deliver(payload)

    def _backlog(self, start: int) -> tuple[list[dict], dict]:
        from .serializers import message_payload

        session = session_selectors.session_get(session_id=self.session_id)
        messages = selectors.messages_for_session(session_id=self.session_id, after_seq=start)
        return [message_payload(m) for m in messages], session_payload(session)

    async def _deliver(self, payload: dict) -> None:
        self.delivered_seq = max(self.delivered_seq, payload["seq"])
        await self.send_frame({"type": "message", "message": payload})

    async def handle_message(self, frame: dict) -> None:
        parsed = frames.parse_message(frame)
        try:
            result = await database_sync_to_async(services.message_create)(
                session_id=self.session_id,
                role=MessageRole.CUSTOMER,
                content=parsed.content,
                client_msg_id=parsed.client_msg_id,
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
                "role": "customer",
                "is_typing": is_typing,
                "sender": self.channel_name,
            },
        )

    async def handle_read(self, frame: dict) -> None:
        seq = frames.parse_read(frame)
        await self.channel_layer.group_send(
            realtime.session_group(self.session_id),
            {"type": "chat.read", "role": "customer", "seq": seq, "sender": self.channel_name},
        )

    # --- events from the session group ------------------------------------------------------

    async def chat_message(self, event: dict) -> None:
        if self.phase is not Phase.READY:
            return
        payload = event["message"]
        seq = payload["seq"]
        if seq <= self.delivered_seq:
            return  # already delivered by the backlog or an earlier event
        if seq > self.delivered_seq + 1:
            # Broadcasts from different processes can overtake each other: fill the gap
            # from the database so the client sees every message, in order, once.
            missing = await database_sync_to_async(self._missing)(self.delivered_seq + 1, seq - 1)
            for earlier in missing:
                await self._deliver(earlier)
        await self._deliver(payload)

    def _missing(self, first: int, last: int) -> list[dict]:
        from .serializers import message_payload

        return [
            message_payload(m)
            for m in selectors.messages_between(
                session_id=self.session_id, first_seq=first, last_seq=last
            )
        ]

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

    async def inbox_message(self, event: dict) -> None:
        """Agent-inbox traffic; customers never receive it."""
