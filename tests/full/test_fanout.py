"""Fan-out: 150 authenticated customer sockets on one Daphne; every broadcast reaches every one."""

from __future__ import annotations

import asyncio
import time

import pytest

from sessions_app.models import HandledBy, SessionStatus
from tests.factories import DEFAULT_TOKEN, SupportSessionFactory
from tests.full.conftest import Ws, in_thread, messages_in

pytestmark = pytest.mark.full

SESSIONS = 30
SOCKETS_PER_SESSION = 5
WS_MESSAGES_PER_SESSION = 2  # sent by socket 0 of the session, through Daphne
SERVER_MESSAGES_PER_SESSION = 1  # stored by this test process: broadcast through Redis
DELIVERY_TIMEOUT = 30.0


def _post_from_this_process(session_ids: list[str]) -> None:
    from chat.services import message_create

    for index, session_id in enumerate(session_ids):
        for k in range(SERVER_MESSAGES_PER_SESSION):
            message_create(
                session_id=session_id,
                role="customer",
                content=f"server {index}/{k}",
                client_msg_id=f"fan-{index}-srv{k}",
            )


@pytest.mark.django_db(transaction=True)
async def test_every_socket_gets_every_broadcast(stack):
    # Sessions a person handles: customer messages do not wake the agent, so the only
    # traffic is the messages this test sends.
    def make_sessions():
        return [
            str(
                SupportSessionFactory(status=SessionStatus.ESCALATED, handled_by=HandledBy.HUMAN).id
            )
            for _ in range(SESSIONS)
        ]

    session_ids = await in_thread(make_sessions)
    started = time.monotonic()
    sockets: dict[tuple[int, int], Ws] = {}
    limit = asyncio.Semaphore(25)  # Twisted's listen backlog is 50: don't flood it

    async def open_and_auth(index: int, n: int) -> None:
        async with limit:
            ws = await Ws.open(stack.ws(session_ids[index]), name=f"s{index}/{n}", timeout=20)
            sockets[(index, n)] = ws
            ready = await ws.auth(DEFAULT_TOKEN, timeout=20)
            assert ready["last_seq"] == 0

    try:
        await asyncio.gather(
            *(open_and_auth(i, n) for i in range(SESSIONS) for n in range(SOCKETS_PER_SESSION))
        )
        assert len(sockets) == SESSIONS * SOCKETS_PER_SESSION >= 150
        connected_in = time.monotonic() - started

        def connection_rows() -> int:
            from chat.models import Connection

            return Connection.objects.filter(session_id__in=session_ids).count()

        assert await in_thread(connection_rows) == SESSIONS * SOCKETS_PER_SESSION

        # --- send: through the sockets (Daphne) and from this process (Redis) at once ----------
        async def send_from_socket(index: int) -> None:
            ws = sockets[(index, 0)]
            for k in range(WS_MESSAGES_PER_SESSION):
                await ws.send(
                    {
                        "type": "message",
                        "content": f"hello {index}/{k}",
                        "client_msg_id": f"fan-{index}-ws{k}",
                    }
                )

        await asyncio.gather(
            *(send_from_socket(i) for i in range(SESSIONS)),
            in_thread(_post_from_this_process, session_ids),
        )

        # --- collect: each socket must see every message of its session ------------------------
        expected = {
            index: {f"fan-{index}-ws{k}" for k in range(WS_MESSAGES_PER_SESSION)}
            | {f"fan-{index}-srv{k}" for k in range(SERVER_MESSAGES_PER_SESSION)}
            for index in range(SESSIONS)
        }
        deadline = asyncio.get_running_loop().time() + DELIVERY_TIMEOUT

        def seen(ws: Ws) -> set[str]:
            return {m["client_msg_id"] for m in messages_in(ws.frames)}

        async def collect(index: int, n: int) -> None:
            ws = sockets[(index, n)]
            while not expected[index] <= seen(ws):
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    return  # reported below, for all sockets at once
                try:
                    await ws.recv(remaining)
                except Exception:
                    return

        await asyncio.gather(*(collect(i, n) for (i, n) in sockets))

        missing = {
            ws.name: sorted(expected[i] - seen(ws))
            for (i, _n), ws in sockets.items()
            if not expected[i] <= seen(ws)
        }
        assert not missing, (
            f"{sum(len(v) for v in missing.values())} deliveries lost on {len(missing)} "
            f"sockets (of {len(sockets)}): {dict(list(missing.items())[:10])}"
        )
        per_session = WS_MESSAGES_PER_SESSION + SERVER_MESSAGES_PER_SESSION
        for (index, n), ws in sockets.items():
            received = messages_in(ws.frames)
            seqs = [m["seq"] for m in received]
            assert seqs == list(range(1, per_session + 1)), f"{ws.name}: seqs {seqs}"
            assert all(m["session_id"] == session_ids[index] for m in received), ws.name
            errors = [f for f in ws.frames if f["type"] == "error"]
            assert not errors, f"{ws.name}: {errors}"
            if n == 0:
                acks = {f["client_msg_id"] for f in ws.frames if f["type"] == "ack"}
                assert acks == {f"fan-{index}-ws{k}" for k in range(WS_MESSAGES_PER_SESSION)}
        total = sum(len(messages_in(ws.frames)) for ws in sockets.values())
        print(
            f"fan-out: {len(sockets)} sockets connected+authenticated in {connected_in:.1f} s; "
            f"{total} deliveries in {time.monotonic() - started:.1f} s total"
        )
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets.values()))

    def rows_left() -> int:
        from chat.models import Connection

        deadline = time.monotonic() + 10
        while True:
            count = Connection.objects.filter(session_id__in=session_ids).count()
            if count == 0 or time.monotonic() > deadline:
                return count
            time.sleep(0.2)

    # Every socket's disconnect removed its connection row.
    assert await in_thread(rows_left) == 0
