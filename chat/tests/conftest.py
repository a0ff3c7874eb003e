"""Consumer-test helpers: connect a customer socket through the real ASGI application."""

from __future__ import annotations

import contextlib

from channels.testing import WebsocketCommunicator

from supportdesk.asgi import application
from tests.factories import DEFAULT_TOKEN

TIMEOUT = 3


async def receive_until(communicator, frame_type: str, timeout: float = TIMEOUT) -> list[dict]:
    """Receive frames up to and including the first of ``frame_type``; return them all."""
    frames = []
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        frames.append(frame)
        if frame["type"] == frame_type:
            return frames


@contextlib.asynccontextmanager
async def customer_socket(
    session_id, *, token=DEFAULT_TOKEN, last_seq=None, origin=None, authenticate=True
):
    """Yield a connected (and by default authenticated) communicator; always disconnects."""
    headers = [(b"origin", origin.encode())] if origin else []
    communicator = WebsocketCommunicator(
        application, f"/ws/sessions/{session_id}/", headers=headers
    )
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    try:
        if authenticate:
            frame = {"type": "auth", "token": token}
            if last_seq is not None:
                frame["last_seq"] = last_seq
            await communicator.send_json_to(frame)
        yield communicator
    finally:
        await communicator.disconnect()
