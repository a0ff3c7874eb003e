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


def agent_user_group(user_id: int) -> str:
    """Return the group of one user's agent-console sockets (closed on logout/deactivation)."""
    return f"agent-user.{int(user_id)}"


def group_send(group: str, event: dict) -> None:
    """Send an event to a channel-layer group, logging (not raising) a layer failure."""
    group_send_many([(group, event)])


def channel_send(channel_name: str, event: dict) -> None:
    """Send an event to one socket's channel, logging (not raising) a layer failure."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.send)(channel_name, event)
    except Exception:
        # Nothing is lost: the socket it was meant for is gone or will reconnect.
        logger.warning("Send of %s to %s failed", event.get("type"), channel_name, exc_info=True)


def group_send_many(sends: list[tuple[str, dict]]) -> None:
    """Send several group events in one hop to the event loop (each hop costs ~1–3 ms).

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
        results = async_to_sync(send_all)()
    except Exception:
        logger.warning("Broadcast of %d events failed", len(sends), exc_info=True)
        return
    for (group, event), result in zip(sends, results, strict=True):
        if isinstance(result, Exception):
            logger.warning(
                "Broadcast of %s to %s failed", event.get("type"), group, exc_info=result
            )
