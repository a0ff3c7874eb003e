"""Channel-layer group names and the sync helpers services use to broadcast after commit."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import uuid

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

logger = logging.getLogger(__name__)

AGENTS_GROUP = "agents"


def session_group(session_id: uuid.UUID | str) -> str:
    """Return the group every socket of one session joins (customer and agents alike)."""
    return f"session.{uuid.UUID(str(session_id)).hex}"


def session_staff_group(session_id: uuid.UUID | str) -> str:
    """Return the group of the agent sockets watching one session (internal notes go here)."""
    return f"session-staff.{uuid.UUID(str(session_id)).hex}"


def agent_user_group(user_id: int) -> str:
    """Return the group of one user's agent-console sockets (closed on logout/deactivation)."""
    return f"agent-user.{int(user_id)}"


def group_send(group: str, event: dict) -> None:
    """Send an event to a channel-layer group, logging (not raising) a layer failure."""
    group_send_many([(group, event)])


# A send from a process with no event loop of its own (a Celery worker, beat, a management
# command) waits at most this long for Redis; a broadcast hiccup must not hang a task.
LAYER_SEND_TIMEOUT = 10.0


class _LayerLoop:
    """One event loop in a daemon thread that owns this process's channel-layer connections.

    ``async_to_sync`` called outside any event loop starts a new loop per call, and
    channels-redis opens connections per loop: every broadcast of a Celery task paid a fresh
    Redis connection and a new thread (~10 ms, 40 % of an AI reply's time, measured in
    docs/performance.md). This loop lives as long as the process, so its connections do too.
    """

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="channel-layer-loop", daemon=True
        )
        self.thread.start()

    def run(self, coroutine):
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result(timeout=LAYER_SEND_TIMEOUT)
        except TimeoutError:
            future.cancel()
            raise


_layer_loop: _LayerLoop | None = None
_layer_loop_lock = threading.Lock()


def layer_loop() -> _LayerLoop:
    """Return this process's layer loop, started on first use (again in a forked child)."""
    global _layer_loop
    with _layer_loop_lock:
        if _layer_loop is None or _layer_loop.pid != os.getpid():
            _layer_loop = _LayerLoop()
        return _layer_loop


def _in_event_loop_thread() -> bool:
    """Whether async_to_sync would hand the call to a running loop (Daphne's, a test's)."""
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        pass
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    return (
        loop is not None
        and getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) == os.getpid()
        and not loop.is_closed()
    )


def layer_call(layer, make_coroutine):
    """Run ``make_coroutine()`` against ``layer`` from sync code, on the right event loop.

    Inside Daphne (a thread of its loop) or an async test: that loop, as async_to_sync does.
    Elsewhere, with a networked layer: this process's long-lived layer loop. The in-memory
    layer keeps async_to_sync: its queues belong to the loop the consumers run on.
    """
    if _in_event_loop_thread() or isinstance(layer, InMemoryChannelLayer):
        return async_to_sync(make_coroutine)()
    return layer_loop().run(make_coroutine())


def channel_send(channel_name: str, event: dict) -> None:
    """Send an event to one socket's channel, logging (not raising) a layer failure."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        layer_call(layer, lambda: layer.send(channel_name, event))
    except Exception:
        # Nothing is lost: the socket it was meant for is gone or will reconnect.
        logger.warning("Send of %s to %s failed", event.get("type"), channel_name, exc_info=True)


def group_send_many(sends: list[tuple[str, dict]]) -> None:
    """Send several group events in one hop to the layer's event loop (each costs ~1–3 ms).

    A layer failure is logged, not raised: the rows are committed and a reconnecting
    client's replay delivers them, so a broadcast hiccup must not fail the sender.
    """
    layer = get_channel_layer()
    if layer is None or not sends:
        return

    async def send_all() -> list:
        return await asyncio.gather(
            *(layer.group_send(group, event) for group, event in sends), return_exceptions=True
        )

    try:
        results = layer_call(layer, send_all)
    except Exception:
        logger.warning("Broadcast of %d events failed", len(sends), exc_info=True)
        return
    for (group, event), result in zip(sends, results, strict=True):
        if isinstance(result, Exception):
            logger.warning(
                "Broadcast of %s to %s failed", event.get("type"), group, exc_info=result
            )
