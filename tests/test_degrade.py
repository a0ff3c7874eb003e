"""The WebSocket outage guard: 1013 on a dependency outage, everything else untouched."""

from __future__ import annotations

import logging

import pytest
import redis.exceptions
from channels.testing import WebsocketCommunicator
from django.db import OperationalError

from supportdesk.degrade import DependencyOutageGuard, is_outage

OUTAGES: list[Exception] = [
    redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379"),
    OperationalError("connection to server failed"),
]
try:  # the pool is installed with psycopg[pool] (DB_POOL deployments)
    from psycopg_pool import PoolTimeout
except ImportError:
    pass
else:
    OUTAGES.append(PoolTimeout("couldn't get a connection after 30.00 sec"))


def _app(error: Exception, *, accept_first: bool):
    async def app(scope, receive, send):
        await receive()  # websocket.connect
        if accept_first:
            await send({"type": "websocket.accept"})
        raise error

    return app


@pytest.mark.parametrize("error", OUTAGES)
@pytest.mark.parametrize("accept_first", [False, True])
async def test_an_outage_closes_1013_with_one_warning(error, accept_first, caplog):
    communicator = WebsocketCommunicator(
        DependencyOutageGuard(_app(error, accept_first=accept_first)), "/ws/sessions/x/"
    )
    with caplog.at_level(logging.WARNING, logger="supportdesk.degrade"):
        connected, code = await communicator.connect(timeout=3)
        assert connected
        assert await communicator.receive_output(timeout=3) == {
            "type": "websocket.close",
            "code": 1013,
        }
    await communicator.wait(timeout=3)
    records = [r for r in caplog.records if r.name == "supportdesk.degrade"]
    assert [r.levelname for r in records] == ["WARNING"]
    assert records[0].exc_info is None


async def test_other_errors_are_not_hidden():
    communicator = WebsocketCommunicator(
        DependencyOutageGuard(_app(ValueError("a bug"), accept_first=False)), "/ws/x/"
    )
    await communicator.send_input({"type": "websocket.connect"})
    with pytest.raises(ValueError, match="a bug"):
        await communicator.wait(timeout=3)


def test_a_wrapped_outage_is_recognised():
    try:
        try:
            raise ConnectionRefusedError(111, "refused")
        except ConnectionRefusedError as inner:
            raise RuntimeError("layer failed") from inner
    except RuntimeError as outer:
        assert is_outage(outer)
    assert is_outage(ExceptionGroup("many", [KeyError("x"), OperationalError("down")]))
    assert not is_outage(KeyError("x"))


async def test_a_handshake_while_the_layers_redis_is_down_never_reaches_the_app(caplog):
    from supportdesk.degrade import RedisProbe
    from tests.servers import free_port

    reached = []

    async def app(scope, receive, send):
        reached.append(scope["path"])
        await send({"type": "websocket.accept"})

    guard = DependencyOutageGuard(app)
    guard.probe = RedisProbe(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="supportdesk.degrade"):
        for _ in range(3):
            communicator = WebsocketCommunicator(guard, "/ws/sessions/x/")
            connected, _ = await communicator.connect(timeout=3)
            assert connected
            assert (await communicator.receive_output(timeout=3))["code"] == 1013
    assert reached == []
    # One warning for the outage, not one per refused socket.
    assert len([r for r in caplog.records if r.name == "supportdesk.degrade"]) == 1
