"""ASGI wrapper: a WebSocket that meets a dependency outage is closed 1013, not failed (HTTP 500).

While Redis or PostgreSQL is unreachable, Channels raises from the handshake (the channel
layer's group_add, the session lookup) and Daphne answers HTTP 500 with a traceback logged
at ERROR. This wrapper catches those errors: a socket not accepted yet is accepted and closed
with 1013 ("try again later"), an accepted one is closed 1013; one WARNING is logged. Any
other exception is not an outage and propagates unchanged.

The pub/sub channel layer does not always raise: on a connection it opened before Redis went
away, SUBSCRIBE is written without waiting for an answer, so the socket would open without
live updates. A new handshake therefore first asks whether the layer's Redis answers (one
PING per process per second at most) and is closed 1013 if not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import redis.asyncio
import redis.exceptions
from django.conf import settings
from django.db import InterfaceError, OperationalError

from supportdesk.metrics import WS_CLOSES

logger = logging.getLogger(__name__)

TRY_AGAIN_LATER = 1013

_OUTAGE_TYPES: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,  # refused/reset sockets raised by asyncio streams directly
    OperationalError,
    InterfaceError,
)
try:
    from psycopg_pool import PoolTimeout
except ImportError:  # the pool is optional (CONN_MAX_AGE deployments)
    pass
else:
    _OUTAGE_TYPES = (*_OUTAGE_TYPES, PoolTimeout)


def is_outage(error: BaseException) -> bool:
    """Return whether ``error`` (or what it wraps) means a dependency is unreachable."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, _OUTAGE_TYPES):
            return True
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                pending.append(linked)
    return False


PROBE_EVERY = 1.0  # seconds a Redis probe's answer is reused


class RedisProbe:
    """Whether the channel layer's Redis answers PING, asked at most once per PROBE_EVERY."""

    def __init__(self, url: str):
        self.url = url
        self.healthy = True
        self._checked_at = float("-inf")
        self._client: redis.asyncio.Redis | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def ok(self) -> bool:
        """Return whether Redis answered (now or less than PROBE_EVERY ago)."""
        now = time.monotonic()
        if now - self._checked_at < PROBE_EVERY:
            return self.healthy
        self._checked_at = now  # concurrent handshakes reuse the last answer meanwhile
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            # A client belongs to the loop it first ran on (tests run one loop per test).
            self._client = redis.asyncio.Redis.from_url(
                self.url, socket_connect_timeout=0.5, socket_timeout=0.5
            )
            self._loop = loop
        try:
            healthy = bool(await self._client.ping())
        except (redis.exceptions.RedisError, OSError) as error:
            healthy = False
            if self.healthy:
                logger.warning("Channel layer Redis unreachable (%r): new sockets get 1013", error)
        else:
            if not self.healthy:
                logger.warning("Channel layer Redis answers again: sockets are accepted")
        self.healthy = healthy
        return healthy


def _layer_redis_url() -> str | None:
    layer = settings.CHANNEL_LAYERS.get("default", {})
    if "redis" not in layer.get("BACKEND", "").lower():
        return None
    hosts = layer.get("CONFIG", {}).get("hosts") or []
    return hosts[0] if hosts and isinstance(hosts[0], str) else None


class DependencyOutageGuard:
    """Wrap the websocket ASGI app: close with 1013 on a Redis/database outage."""

    def __init__(self, application):
        self.application = application
        url = _layer_redis_url()
        self.probe = RedisProbe(url) if url else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.application(scope, receive, send)
        if self.probe is not None and not await self.probe.ok():
            return await self._refuse(receive, send)
        state = {"accepted": False, "closed": False}

        async def tracking_send(message):
            if message["type"] == "websocket.accept":
                state["accepted"] = True
            elif message["type"] == "websocket.close":
                state["closed"] = True
            await send(message)

        try:
            return await self.application(scope, receive, tracking_send)
        except Exception as error:
            if not is_outage(error):
                raise
            logger.warning(
                "WebSocket %s closed with %d: dependency unavailable (%s: %s)",
                scope.get("path"),
                TRY_AGAIN_LATER,
                type(error).__name__,
                error,
            )
            if state["closed"]:
                return None
            # The client may have gone already; there is nothing left to tell it then.
            with contextlib.suppress(Exception):
                if not state["accepted"]:
                    # A close before accept is an HTTP 403 to the client; accept first so it
                    # gets the close code that tells it to come back later.
                    await send({"type": "websocket.accept"})
                await send({"type": "websocket.close", "code": TRY_AGAIN_LATER})
                WS_CLOSES.labels(str(TRY_AGAIN_LATER)).inc()
            return None

    async def _refuse(self, receive, send) -> None:
        # The app never sees this socket: answer the handshake ourselves, accept-then-1013.
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        with contextlib.suppress(Exception):
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": TRY_AGAIN_LATER})
            WS_CLOSES.labels(str(TRY_AGAIN_LATER)).inc()
