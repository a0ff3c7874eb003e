"""Close codes and handshake refusals of the customer socket, over the real Daphne."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.factories import DEFAULT_TOKEN, SupportSessionFactory
from tests.full.conftest import Ws

pytestmark = pytest.mark.full


@pytest.fixture
def session(transactional_db):
    return SupportSessionFactory()


async def _close_code_after(ws: Ws, frame: dict | str | None = None) -> int:
    try:
        if frame is not None:
            await ws.send(frame)
        return await ws.wait_closed(timeout=15)
    finally:
        await ws.close()


@pytest.mark.django_db(transaction=True)
async def test_invalid_session_id_closes_4001_after_accept(stack):
    for raw in ("undefined", "null"):
        ws = await Ws.open(stack.ws(raw), name=raw)  # the handshake itself succeeds
        assert await _close_code_after(ws) == 4001


@pytest.mark.django_db(transaction=True)
async def test_unknown_session_closes_4004(stack):
    ws = await Ws.open(stack.ws(uuid.uuid4()))
    code = await _close_code_after(ws, {"type": "auth", "token": DEFAULT_TOKEN})
    assert code == 4004


@pytest.mark.django_db(transaction=True)
async def test_wrong_token_closes_4003(stack, session):
    ws = await Ws.open(stack.ws(session.id))
    code = await _close_code_after(ws, {"type": "auth", "token": "not-the-right-token"})
    assert code == 4003


@pytest.mark.django_db(transaction=True)
async def test_right_token_and_same_origin_are_accepted(stack, session):
    """The control for the refusals: same origin and the right token get `ready`."""
    ws = await Ws.open(stack.ws(session.id), origin=stack.base_url)
    try:
        ready = await ws.auth(DEFAULT_TOKEN)
        assert ready["session"]["id"] == str(session.id)
        await ws.send({"type": "ping"})
        assert (await ws.until(lambda f: f["type"] == "pong", timeout=5))[-1] == {"type": "pong"}
    finally:
        await ws.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("origin", ["http://evil.example", "null"])
async def test_foreign_or_null_origin_is_refused_at_handshake(stack, session, origin):
    with pytest.raises(InvalidStatus) as refused:
        ws = await Ws.open(stack.ws(session.id), origin=origin)
        await ws.close()
    assert refused.value.response.status_code == 403


@pytest.mark.django_db(transaction=True)
async def test_frame_over_64_kib_closes_1009(stack, session):
    ws = await Ws.open(stack.ws(session.id))
    try:
        await ws.auth(DEFAULT_TOKEN)
        big = json.dumps({"type": "message", "content": "x" * (70 * 1024), "client_msg_id": "b"})
        assert len(big.encode()) > 64 * 1024
        # The server may close while we are still writing: the code is read below.
        with contextlib.suppress(ConnectionClosed):
            await ws.send(big)
        assert await ws.wait_closed(timeout=10) == 1009
    finally:
        await ws.close()

    # The server survived and nothing was stored.
    ok = await Ws.open(stack.ws(session.id))
    try:
        ready = await ok.auth(DEFAULT_TOKEN)
        assert ready["last_seq"] == 0 and ready["session"]["last_seq"] == 0
    finally:
        await ok.close()


@pytest.mark.django_db(transaction=True)
async def test_no_auth_frame_closes_4008_after_the_auth_timeout(stack, session):
    ws = await Ws.open(stack.ws(session.id))
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        code = await ws.wait_closed(timeout=20)
    finally:
        await ws.close()
    elapsed = loop.time() - started
    assert code == 4008
    assert 9.0 <= elapsed <= 15.0, elapsed
    assert ws.frames == []  # nothing was sent to an unauthenticated socket
