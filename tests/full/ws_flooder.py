"""An abusive WebSocket client for the soak test, run as its own process.

`python -m tests.full.ws_flooder <ws url> <token> <seconds> <mode>` floods one socket at a
time with frames, unpaced (it never waits for an answer), reconnects whenever the server
closes it, and prints one JSON line of counts when the time is up. Modes: `junk` (invalid
JSON, binary, `[]`, `{"x":1}`, `{"type":""}`, unknown types, deep nesting before auth) and
`pings` (authenticates, then floods valid pings and reads).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections import Counter

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

JUNK: list[str | bytes] = [
    "not json {",
    b"\x00\xffbinary",
    "[]",
    '{"x":1}',
    '{"type":""}',
    '{"type":"teleport"}',
    "[" * 5000 + "]" * 5000,
    '{"type":"read","seq":1237940039285380274899124224}',
]
VALID = ['{"type":"ping"}', '{"type":"read","seq":0}', '{"type":"typing","is_typing":true}']


async def flood_once(url: str, token: str, mode: str, stats: Counter) -> None:
    async with connect(url, open_timeout=5, close_timeout=1, ping_interval=None) as conn:
        stats["handshakes"] += 1
        frames = JUNK
        if mode == "pings":
            await conn.send(json.dumps({"type": "auth", "token": token}))
            frames = VALID
        # Read (and ignore) answers, so that the server's close frame is seen: a client that
        # never reads stops reading the socket once its queue is full.
        reader = asyncio.create_task(drain(conn))
        try:
            while True:
                for frame in frames:
                    await conn.send(frame)
                    stats["sent"] += 1
                # send() rarely suspends: let the reader see the server's close now and then.
                await asyncio.sleep(0)
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd is not None else 1006
            stats[f"close_{code}"] += 1
        finally:
            reader.cancel()


async def drain(conn) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for _ in conn:
            pass


async def main(url: str, token: str, seconds: float, mode: str) -> Counter:
    stats: Counter = Counter()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            await asyncio.wait_for(
                flood_once(url, token, mode, stats), max(0.1, deadline - time.monotonic())
            )
        except (TimeoutError, OSError, InvalidHandshake) as error:
            stats[f"error_{type(error).__name__}"] += 1
            with contextlib.suppress(Exception):
                await asyncio.sleep(0.05)
    return stats


if __name__ == "__main__":
    ws_url, session_token, duration, flood_mode = sys.argv[1:5]
    result = asyncio.run(main(ws_url, session_token, float(duration), flood_mode))
    print(json.dumps(dict(result)), flush=True)
