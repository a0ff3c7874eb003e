#!/usr/bin/env python
"""Scale-out benchmark: messages/s stored and delivered by a RUNNING stack (one Daphne or N).

Point it at what `make up` (one Daphne) or `make up WEB=2` (HAProxy + two) serves:

    .venv/bin/python bench/scale_out.py --url http://127.0.0.1:8000 \
        --database-url postgres://postgres@127.0.0.1:5432/supportdesk --rate 600 --seconds 10

It creates S sessions over REST, hands them to a person with psql (no agent reply: only the
message path is measured), opens 2 customer sockets per session through ``--url`` (and
records which backend each landed on, from HAProxy's ``X-Supportdesk-Backend``), sends
``message`` frames at R/s round-robin over the sessions for T s, then waits until every
message reached both sockets of its session (or ``--deadline`` s). It prints one JSON line:
sent, delivered/expected, deliveries/s (first send → last delivery), send→receipt p50/p99.
The stack must allow the load: start it with CHAT_RATE_LIMIT=1000/1s,
SESSION_CREATE_RATE=100000/min, WS_TRANSPORT_RATE=1000000/1s and WS_MAX_QUEUED_FRAMES=100000
(every socket comes from 127.0.0.1; a saturated server queues frames, which the flood guard
answers with 4029). Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import subprocess
import time
import urllib.request
import uuid

from websockets.asyncio.client import connect


def create_sessions(url: str, count: int) -> list[dict]:
    """Create ``count`` sessions over REST; return their ids and tokens."""
    sessions = []
    for index in range(count):
        request = urllib.request.Request(  # noqa: S310 (http on loopback)
            f"{url}/api/v1/sessions/",
            data=json.dumps({"customer_name": f"scale bench {index}"}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
            body = json.loads(response.read())
        sessions.append({"id": body["id"], "token": body["token"]})
    return sessions


def hand_to_person(database_url: str, ids: list[str]) -> None:
    """Mark the sessions as held by a person, so no customer message wakes the agent."""
    quoted = ",".join(f"'{uuid.UUID(session_id)}'" for session_id in ids)  # UUIDs only
    # Every value is a parsed UUID: nothing else reaches the statement.
    sql = f"UPDATE sessions_app_supportsession SET handled_by='human', status='escalated' WHERE id IN ({quoted})"  # noqa: E501, S608
    subprocess.run(["psql", database_url, "-qc", sql], check=True)  # noqa: S603, S607


def percentile(values: list[float], pct: float) -> float | None:
    """Return the ``pct`` percentile of sorted ``values`` (nearest rank)."""
    if not values:
        return None
    return values[min(len(values) - 1, int(round(pct / 100 * (len(values) - 1))))]


async def run(args) -> dict:
    """Connect, send, collect; return the summary."""
    sessions = create_sessions(args.url, args.sessions)
    hand_to_person(args.database_url, [s["id"] for s in sessions])
    ws_url = args.url.replace("http://", "ws://")
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    delivered = 0
    last_delivery = 0.0
    backends: collections.Counter[str] = collections.Counter()
    sockets = []
    for session in sessions:
        for _ in range(2):
            conn = await connect(
                f"{ws_url}/ws/sessions/{session['id']}/", ping_interval=None, max_size=2**20
            )
            backends[conn.response.headers.get("X-Supportdesk-Backend", "direct")] += 1
            await conn.send(json.dumps({"type": "auth", "token": session["token"]}))
            assert json.loads(await conn.recv())["type"] == "ready"
            sockets.append(conn)

    async def reader(conn) -> None:
        nonlocal delivered, last_delivery
        async for raw in conn:
            frame = json.loads(raw)
            if frame.get("type") == "message":
                now = time.monotonic()
                key = frame["message"]["client_msg_id"]
                if key in sent_at:
                    latencies.append(now - sent_at[key])
                    delivered += 1
                    last_delivery = now

    readers = [asyncio.create_task(reader(conn)) for conn in sockets]
    total = int(args.rate * args.seconds)
    started = time.monotonic()
    for k in range(total):
        # Pace against the clock, so a slow server doesn't lower the offered rate.
        delay = started + k / args.rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        # Alternate the session's two sockets as the sender: sockets are opened in order and
        # the balancer alternates them, so always sending from the first put every write on
        # one process (measured: 86 % vs 15 % CPU) and the other only delivered.
        conn = sockets[2 * (k % len(sessions)) + (k // len(sessions)) % 2]
        key = f"sb{k}"
        sent_at[key] = time.monotonic()
        await conn.send(json.dumps({"type": "message", "content": f"m{k}", "client_msg_id": key}))
    expected = 2 * total
    deadline = time.monotonic() + args.deadline
    while delivered < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    for task in readers:
        task.cancel()
    for conn in sockets:
        await conn.close()
    latencies.sort()
    elapsed = (last_delivery or time.monotonic()) - started
    return {
        "url": args.url,
        "backends": dict(backends),
        "offered_msgs_per_s": args.rate,
        "sent": total,
        "expected_deliveries": expected,
        "delivered": delivered,
        "deliveries_per_s": round(delivered / elapsed, 1) if elapsed > 0 else None,
        "stored_msgs_per_s": round(total / elapsed, 1) if delivered == expected else None,
        "p50_ms": round(1000 * percentile(latencies, 50), 1) if latencies else None,
        "p99_ms": round(1000 * percentile(latencies, 99), 1) if latencies else None,
    }


def main() -> None:
    """Parse the arguments, run once, print the JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--database-url", required=True, help="the stack's PostgreSQL (psql)")
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--rate", type=float, default=500.0, help="messages/s offered")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--deadline", type=float, default=20.0, help="s to wait after sending")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
