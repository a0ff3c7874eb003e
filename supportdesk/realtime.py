"""Channel-layer group names and the sync helpers services use to broadcast after commit."""

from __future__ import annotations

import asyncio
import logging
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

AGENTS_GROUP = "agents"


def session_group(session_id: uuid.UUID | str) -> str:
    """Return the group every socket of one session joins (customer and agents alike)."""
    return f"session.{uuid.UUID(str(session_id)).hex}"


def session_staff_group(session_id: uuid.UUID | str) -> str:
    """Return the group of the agent sockets watching one session (internal notes go here)."""
    return f"session-staff.{uuid.UUID(str(session_id)).hex}"


def _send(target: str, event: dict, *, group: bool) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        if group:
            async_to_sync(layer.group_send)(target, event)
        else:
            async_to_sync(layer.send)(target, event)
    except Exception:
        # The row is committed and replay on reconnect delivers it; a broadcast failure must
        # not turn a stored message into an error for the sender.
        logger.warning("Broadcast of %s to %s failed", event.get("type"), target, exc_info=True)


def group_send(group: str, event: dict) -> None:
    """Send an event to a channel-layer group, logging (not raising) a layer failure."""
    _send(group, event, group=True)


def group_send_many(sends: list[tuple[str, dict]]) -> None:
    """Send several group events in one hop to the event loop (each hop costs ~1–3 ms)."""
    layer = get_channel_layer()
    if layer is None or not sends:
        return

    async def send_all() -> list:
        return await asyncio.gather(
            *(layer.group_send(group, event) for group, event in sends), return_exceptions=True
        )

    try:
        results = async_to_sync(send_all)()
    except Exception:
        logger.warning("Broadcast of %d events failed", len(sends), exc_info=True)
        return
    for (group, event), result in zip(sends, results, strict=True):
        if isinstance(result, Exception):
            logger.warning(
                "Broadcast of %s to %s failed", event.get("type"), group, exc_info=result
            )


def channel_send(channel_name: str, event: dict) -> None:
    """Send an event to one socket's channel, logging (not raising) a layer failure."""
    _send(channel_name, event, group=False)
