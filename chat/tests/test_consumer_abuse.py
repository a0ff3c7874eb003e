"""Abusive and crafted frames: every frame is rate limited, none crashes a consumer."""

from __future__ import annotations

import json
import logging

import pytest
from channels.db import database_sync_to_async
from prometheus_client import REGISTRY

from chat import consumers
from chat.consumers import CloseCode
from chat.models import Connection, Message
from tests.factories import StaffFactory, SupportSessionFactory

from .conftest import TIMEOUT, customer_socket
from .test_agent_consumer import agent_socket, frames_until, ready_agent

pytestmark = pytest.mark.django_db(transaction=True)

DEEP_JSON = "[" * 10_000 + "]" * 10_000


@database_sync_to_async
def make_session(**kwargs):
    return SupportSessionFactory(**kwargs)


@database_sync_to_async
def count(model) -> int:
    return model.objects.count()


def metric(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def send_raw(ws, frame) -> None:
    if isinstance(frame, bytes):
        await ws.send_to(bytes_data=frame)
    elif isinstance(frame, str):
        await ws.send_to(text_data=frame)
    else:
        await ws.send_json_to(frame)


async def outputs_until_close(ws, limit: int = 50) -> tuple[list[dict], int]:
    """Return the JSON frames received before the close, and the close code."""
    frames = []
    for _ in range(limit):
        output = await ws.receive_output(timeout=TIMEOUT)
        if output["type"] == "websocket.close":
            return frames, output["code"]
        frames.append(json.loads(output["text"]))
    raise AssertionError(f"not closed after {limit} frames: {frames[-3:]}")


# --- finding 2: every frame counts before it is parsed -----------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        "not json {",
        b"\x00\x01binary",
        "[]",
        {"x": 1},
        {"type": ""},
        {"type": "teleport"},
        {"type": "ping"},
        DEEP_JSON,
    ],
    ids=["invalid_json", "binary", "array", "no_type", "empty_type", "unknown", "ping", "deep"],
)
async def test_every_kind_of_frame_counts_and_repeated_abuse_closes_4029(settings, frame):
    settings.CHAT_RATE_LIMIT = "4/10s"
    settings.CHAT_RATE_LIMIT_STRIKES = 3
    hits_before = metric("supportdesk_rate_limit_hits_total", scope="ws_frame")
    closes_before = metric("supportdesk_ws_closes_total", code="4029")
    session = await make_session()
    async with customer_socket(session.pk) as ws:
        assert (await ws.receive_json_from(timeout=TIMEOUT))["type"] == "ready"  # auth: 1
        for _ in range(10):  # unpaced, as a flood would be
            await send_raw(ws, frame)
        frames, code = await outputs_until_close(ws)
    assert code == CloseCode.ABUSE
    # 3 frames within the rate got their normal answer, then 2 rate_limited, then the close.
    assert [f["type"] for f in frames[:3]] in (["pong"] * 3, ["error"] * 3)
    assert [f.get("code") for f in frames[3:]] == ["rate_limited", "rate_limited"]
    assert metric("supportdesk_rate_limit_hits_total", scope="ws_frame") - hits_before == 3
    assert metric("supportdesk_ws_closes_total", code="4029") - closes_before == 1
    assert await count(Connection) == 0


# --- finding 7: crafted frames get an error frame, never a crash -------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (json.dumps({"type": "read", "seq": 2**90}), "invalid_field"),
        (json.dumps({"type": "read", "seq": 2**31}), "invalid_field"),
        (json.dumps({"type": "read", "seq": 1e400}), "invalid_field"),
        (DEEP_JSON, "invalid_json"),
        ('{"type":"message","content":' + "[" * 50 + "]" * 50 + "}", "invalid_json"),
        ('{"type":"message","content":"hi \\ud800","client_msg_id":"s1"}', "invalid_field"),
        ('{"type":"typing","is_typing":true,"x":"\\udfff"}', "invalid_field"),
        ('{"type":"ping","\\ud800":1}', "invalid_field"),
        (json.dumps({"type": "ping", "n": -(2**70)}), "invalid_field"),
    ],
    ids=[
        "seq_2e90",
        "seq_over_db_int",
        "seq_inf",
        "deep_10000",
        "deep_50",
        "surrogate_content",
        "surrogate_other_field",
        "surrogate_key",
        "huge_negative",
    ],
)
async def test_crafted_frames_get_an_error_and_the_socket_stays_open(raw, code, caplog):
    caplog.set_level(logging.INFO)
    session = await make_session(handled_by="human", status="escalated")
    async with customer_socket(session.pk) as ws:
        assert (await ws.receive_json_from(timeout=TIMEOUT))["type"] == "ready"
        await ws.send_to(text_data=raw)
        error = await ws.receive_json_from(timeout=TIMEOUT)
        assert error["type"] == "error" and error["code"] == code, error
        await ws.send_json_to({"type": "ping"})
        assert await ws.receive_json_from(timeout=TIMEOUT) == {"type": "pong"}
        # Still able to do real work after it.
        await ws.send_json_to({"type": "read", "seq": 2**31 - 1})
        await ws.send_json_to({"type": "message", "content": "ok", "client_msg_id": "ok1"})
        assert (await ws.receive_json_from(timeout=TIMEOUT))["type"] in ("ack", "message")
    assert await count(Connection) == 0
    assert await count(Message) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps({"type": "auth", "token": "x", "last_seq": 2**90}),
        '{"type":"auth","token":"\\ud800"}',
        DEEP_JSON,
    ],
)
async def test_crafted_auth_frames_get_an_error_before_authentication(raw):
    session = await make_session()
    async with customer_socket(session.pk, authenticate=False) as ws:
        await ws.send_to(text_data=raw)
        error = await ws.receive_json_from(timeout=TIMEOUT)
        assert error["type"] == "error" and error["code"] in ("invalid_field", "invalid_json")
        await ws.send_json_to({"type": "auth", "token": "customer-token-for-tests"})
        assert (await ws.receive_json_from(timeout=TIMEOUT))["type"] == "ready"


async def test_crafted_console_frames_get_errors(caplog):
    caplog.set_level(logging.INFO)
    agent = await database_sync_to_async(StaffFactory)()
    session = await make_session()
    sid = str(session.pk)
    async with agent_socket(agent) as ws:
        await ready_agent(ws)
        for raw, code in [
            (json.dumps({"type": "join", "session_id": sid, "last_seq": 2**90}), "invalid_field"),
            (json.dumps({"type": "join", "session_id": sid, "last_seq": 2**31}), "invalid_field"),
            (json.dumps({"type": "assign", "session_id": sid, "user_id": 2**90}), "invalid_field"),
            (json.dumps({"type": "assign", "session_id": sid, "user_id": 2**62}), "invalid_field"),
            (json.dumps({"type": "assign", "session_id": sid, "user_id": 0}), "invalid_field"),
            ('{"type":"inbox","search":"\\ud800"}', "invalid_field"),
            ('{"type":"inbox","filter":{"a":[1]}}', "invalid_field"),
            ('{"type":"join","session_id":"\\ud800"}', "invalid_field"),
            (json.dumps({"type": "read", "session_id": sid, "seq": 2**90}), "invalid_field"),
            (json.dumps({"type": "note", "session_id": sid, "content": 5}), "invalid_field"),
            ('{"type":"note","session_id":"' + sid + '","content":"\\udc00"}', "invalid_field"),
            (DEEP_JSON, "invalid_json"),
        ]:
            await ws.send_to(text_data=raw)
            error = (await frames_until(ws, lambda f: f["type"] == "error"))[-1]
            assert error["code"] == code, raw[:80]
        await ws.send_json_to({"type": "ping"})
        await frames_until(ws, lambda f: f["type"] == "pong")
    assert await count(Connection) == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_unexpected_handler_failure_closes_cleanly_and_leaves_no_row(monkeypatch):
    async def broken(self, frame):
        raise RuntimeError("a bug in a handler")

    monkeypatch.setattr(consumers.CustomerConsumer, "handle_ping", broken)
    session = await make_session()
    async with customer_socket(session.pk) as ws:
        assert (await ws.receive_json_from(timeout=TIMEOUT))["type"] == "ready"
        assert await count(Connection) == 1
        await ws.send_json_to({"type": "ping"})
        output = await ws.receive_output(timeout=TIMEOUT)
        assert output == {"type": "websocket.close", "code": CloseCode.INTERNAL_ERROR}
        # Cleaned up at once, not left to the stale sweep.
        assert await count(Connection) == 0
