"""The console's live inbox rows: one query per short window per process, for every agent socket.

Every stored message reaches every agent socket (the ``agents`` group). Each socket used to
fetch the touched rows itself, so 20 open consoles ran 20 identical queries per window and
halved a Daphne's message rate (docs/performance.md). The feed is per process and per event
loop: sockets subscribe, each ``inbox.message`` event marks its session, and one task per
window fetches the marked rows once, encodes each ``inbox_update`` frame once and hands the
same text to every subscribed socket.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable

from channels.db import database_sync_to_async

from . import selectors
from .serializers import frame_text, inbox_summary

logger = logging.getLogger(__name__)

# Rows touched within this window are fetched together (also the refresh latency floor).
INBOX_BATCH_SECONDS = 0.2

Subscriber = Callable[[list[str]], Awaitable[None]]


def _rows(session_ids: set[str]) -> list[dict]:
    return [inbox_summary(s) for s in selectors.inbox_sessions_by_id(session_ids)]


class InboxFeed:
    """Marked sessions → one batched row query → the same encoded frames to every subscriber."""

    def __init__(self, window: float = INBOX_BATCH_SECONDS) -> None:
        self.window = window
        self._pending: set[str] = set()
        self._subscribers: dict[object, Subscriber] = {}
        self._flush: asyncio.Task | None = None

    def subscribe(self, key: object, deliver: Subscriber) -> None:
        self._subscribers[key] = deliver

    def unsubscribe(self, key: object) -> None:
        self._subscribers.pop(key, None)
        if not self._subscribers and self._flush is not None and not self._flush.done():
            self._flush.cancel()
            self._pending.clear()

    def touch(self, session_id: str) -> None:
        """Mark a session's row as changed; the next flush (within the window) sends it."""
        if not self._subscribers:
            return
        self._pending.add(session_id)
        if self._flush is None or self._flush.done():
            self._flush = asyncio.get_running_loop().create_task(self._flush_after_window())

    async def _flush_after_window(self) -> None:
        await asyncio.sleep(self.window)
        pending, self._pending = self._pending, set()
        try:
            rows = await database_sync_to_async(_rows, thread_sensitive=False)(pending)
        except Exception:
            # The next message refreshes its row again; a console reload shows them all.
            logger.warning("Inbox rows for %d sessions not refreshed", len(pending), exc_info=True)
            rows = []
        texts = [frame_text({"type": "inbox_update", "session": row}) for row in rows]
        for deliver in list(self._subscribers.values()):
            try:
                await deliver(texts)
            except Exception:
                logger.debug("Inbox update not delivered to one socket", exc_info=True)
        if self._pending and self._subscribers:
            # Touched while this flush queried: touch() saw it running and started none.
            self._flush = asyncio.get_running_loop().create_task(self._flush_after_window())


_feeds: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, InboxFeed] = (
    weakref.WeakKeyDictionary()
)


def inbox_feed() -> InboxFeed:
    """Return the feed of the running event loop (one per Daphne process)."""
    loop = asyncio.get_running_loop()
    feed = _feeds.get(loop)
    if feed is None:
        feed = _feeds[loop] = InboxFeed()
    return feed
