"""ASGI wrapper: a WebSocket that meets a dependency outage is closed 1013, not failed (HTTP 500).

While Redis or PostgreSQL is unreachable, Channels raises from the handshake (the channel
layer's group_add, the session lookup) and Daphne answers HTTP 500 with a traceback logged
at ERROR. This wrapper catches those errors: a socket not accepted yet is accepted and closed
with 1013 ("try again later"), an accepted one is closed 1013; one WARNING is logged. Any
other exception is not an outage and propagates unchanged.
"""

from __future__ import annotations

import contextlib
import logging

import redis.exceptions
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


class DependencyOutageGuard:
    """Wrap the websocket ASGI app: close with 1013 on a Redis/database outage."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.application(scope, receive, send)
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
