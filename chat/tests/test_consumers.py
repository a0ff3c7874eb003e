"""Customer WebSocket consumer: every frame type, error code and close code of the protocol."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from chat.consumers import CloseCode, CustomerConsumer, Phase, SocketNotOpen
from chat.models import Connection, Message, MessageRole
from chat.services import message_create
from sessions_app.models import SupportSession
from supportdesk import realtime
from supportdesk.asgi import application
from tests.factories import SupportSessionFactory

from .conftest import TIMEOUT, customer_socket, receive_until

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def make_session(**kwargs) -> SupportSession:
    return SupportSessionFactory(**kwargs)


@database_sync_to_async
def post(session, content, role=MessageRole.AGENT, **kwargs):
    return message_create(session_id=session.pk, role=role, content=content, **kwargs).message


async def expect_close(communicator, code: int) -> None:
    output = await communicator.receive_output(timeout=TIMEOUT)
    assert output == {"type": "websocket.close", "code": code}
    # A plain int: Daphne (autobahn) turns an IntEnum close code into a 1011 error.
    assert type(output["code"]) is int


# --- handshake and authentication ---------------------------------------------------------


async def test_auth_then_ready_with_session():
    session = await make_session()
    async with customer_socket(session.pk) as ws:
        ready = await ws.receive_json_from(timeout=TIMEOUT)
        assert ready["type"] == "ready"
        assert ready["session"]["id"] == str(session.pk)
        assert ready["last_seq"] == 0


@pytest.mark.parametrize("bad_id", ["undefined", "null", "", "123", "not-a-uuid"])
async def test_malformed_session_id_closes_4001_without_touching_the_database(bad_id, sql_log):
    communicator = WebsocketCommunicator(application, f"/ws/sessions/{bad_id}/")
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected  # accepted first, then closed with the protocol's code
    await expect_close(communicator, CloseCode.INVALID_SESSION_ID)
    await communicator.disconnect()
    assert sql_log == []


async def test_unknown_session_closes_4004():
    async with customer_socket("6f1c1f7e-0000-4000-8000-000000000000") as ws:
        await expect_close(ws, CloseCode.SESSION_NOT_FOUND)


async def test_wrong_token_closes_4003():
    session = await make_session()
    async with customer_socket(session.pk, token="wrong-token") as ws:
        await expect_close(ws, CloseCode.FORBIDDEN)


async def test_no_auth_frame_in_time_closes_4008(settings):
    settings.CHAT_AUTH_TIMEOUT = 0.2
    session = await make_session()
    async with customer_socket(session.pk, authenticate=False) as ws:
        await expect_close(ws, CloseCode.AUTH_TIMEOUT)


async def test_frames_before_auth_are_refused_with_an_error():
    session = await make_session()
    async with customer_socket(session.pk, authenticate=False) as ws:
        await ws.send_json_to({"type": "message", "content": "hi"})
        error = await ws.receive_json_from(timeout=TIMEOUT)
        assert error == {
            "type": "error",
            "code": "invalid_field",
            "detail": "send an 'auth' frame first",
        }
        assert await database_sync_to_async(Message.objects.count)() == 0


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "null", "https://127.0.0.1.evil.example"]
)
async def test_foreign_or_null_origin_is_refused_before_accept(origin):
    session = await make_session()
    communicator = WebsocketCommunicator(
        application, f"/ws/sessions/{session.pk}/", headers=[(b"origin", origin.encode())]
    )
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    # Closed without an accept: the server answers the handshake with HTTP 403 (checked over
    # a real Daphne in tests/full).
    assert not connected
    await communicator.disconnect()


async def test_same_site_origin_is_accepted():
    session = await make_session()
    async with customer_socket(session.pk, origin="http://127.0.0.1:8000") as ws:
        assert (await ws.receive_json_from(timeout=TIMEOUT))["type"] == "ready"


async def test_unknown_path_is_refused():
    communicator = WebsocketCommunicator(application, "/ws/nothing-here/")
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert not connected
    await communicator.disconnect()


# --- messages, acks, broadcasts --------------------------------------------------------------


async def test_message_is_acked_and_broadcast_to_every_socket_of_the_session(settings):
    settings.AGENT_PROVIDER = "extractive"
    session = await make_session(handled_by="human", status="escalated")
    async with customer_socket(session.pk) as first, customer_socket(session.pk) as second:
        await first.receive_json_from(timeout=TIMEOUT)
        await second.receive_json_from(timeout=TIMEOUT)
        await first.send_json_to({"type": "message", "content": "Hello", "client_msg_id": "c-1"})
        frames = [await first.receive_json_from(timeout=TIMEOUT) for _ in range(2)]
        by_type = {f["type"]: f for f in frames}
        ack = by_type["ack"]
        assert ack["client_msg_id"] == "c-1" and ack["seq"] == 1
        assert by_type["message"]["message"]["content"] == "Hello"
        other = await second.receive_json_from(timeout=TIMEOUT)
        assert other["type"] == "message"
        assert other["message"]["id"] == ack["id"]
        assert other["message"]["role"] == "customer"
        assert other["message"]["session_id"] == str(session.pk)


async def test_resent_client_msg_id_gets_the_same_ack_and_creates_nothing():
    session = await make_session(handled_by="human", status="escalated")
    async with customer_socket(session.pk) as ws:
        await ws.receive_json_from(timeout=TIMEOUT)
        frame = {"type": "message", "content": "Once", "client_msg_id": "same"}
        await ws.send_json_to(frame)
        first_ack = (await receive_until(ws, "ack"))[-1]
        await ws.send_json_to(frame)
        second_ack = (await receive_until(ws, "ack"))[-1]
        assert first_ack == second_ack
        assert await database_sync_to_async(Message.objects.count)() == 1


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"type": "message"}, "invalid_field"),
        ({"type": "message", "content": 5}, "invalid_field"),
        ({"type": "message", "content": "   "}, "invalid_field"),
        ({"type": "message", "content": "x", "client_msg_id": "bad id!"}, "invalid_field"),
        ({"type": "typing", "is_typing": "yes"}, "invalid_field"),
        ({"type": "read", "seq": -1}, "invalid_field"),
        ({"type": "read", "seq": True}, "invalid_field"),
        ({"type": "teleport"}, "unknown_type"),
        ({"no_type": 1}, "invalid_field"),
        ([1, 2, 3], "invalid_field"),
    ],
)
async def test_bad_frames_get_an_error_and_the_socket_stays_open(frame, code):
    session = await make_session()
    async with customer_socket(session.pk) as ws:
        await ws.receive_json_from(timeout=TIMEOUT)
        await ws.send_json_to(frame)
        error = await ws.receive_json_from(timeout=TIMEOUT)
        assert error["type"] == "error" and error["code"] == code and error["detail"]
        await ws.send_json_to({"type": "ping"})
        assert await ws.receive_json_from(timeout=TIMEOUT) == {"type": "pong"}


async def test_invalid_json_gets_an_error_and_the_socket_stays_open():
    session = await make_session()
    async with customer_socket(session.pk) as ws:
        await ws.receive_json_from(timeout=TIMEOUT)
        await ws.send_to(text_data="{not json")
        error = await ws.receive_json_from(timeout=TIMEOUT)
        assert error["code"] == "invalid_json"
        await ws.send_json_to({"type": "ping"})
        assert await ws.receive_json_from(timeout=TIMEOUT) == {"type": "pong"}


async def test_too_long_message_is_refused(settings):
    settings.CHAT_MAX_MESSAGE_CHARS = 10
    session = await make_session()
    async with customer_socket(session.pk) as ws:
        await ws.receive_json_from(timeout=TIMEOUT)
        await ws.send_json_to({"type": "message", "content": "x" * 11, "client_msg_id": "a"})
        error = await ws.receive_json_from(timeout=TIMEOUT)
        assert error["code"] == "too_long"
        assert await database_sync_to_async(Message.objects.count)() == 0


async def test_frame_over_64_kib_closes_1009_before_parsing():
    session = await make_session()
    async with customer_socket(session.pk) as ws:
        await ws.receive_json_from(timeout=TIMEOUT)
        await ws.send_to(text_data="x" * (64 * 1024 + 1))
        await expect_close(ws, CloseCode.TOO_BIG)


async def test_message_to_closed_session_gets_session_closed():
    session = await make_session(status="closed")
    async with customer_socket(session.pk) as ws:
        await ws.receive_json_from(timeout=TIMEOUT)
        await ws.send_json_to({"type": "message", "content": "hello?"})
        error = await ws.receive_json_from(timeout=TIMEOUT)
        assert error["code"] == "session_closed"


async def test_rate_limit_then_close_4029_on_repeated_abuse(settings):
    settings.CHAT_RATE_LIMIT = "3/10s"
    settings.CHAT_RATE_LIMIT_STRIKES = 3
    session = await make_session()
    async with customer_socket(session.pk) as ws:
        await ws.receive_json_from(timeout=TIMEOUT)  # the auth frame counted as 1
        await ws.send_json_to({"type": "ping"})
        await ws.send_json_to({"type": "ping"})
        assert await ws.receive_json_from(timeout=TIMEOUT) == {"type": "pong"}
        assert await ws.receive_json_from(timeout=TIMEOUT) == {"type": "pong"}
        for _ in range(2):
            await ws.send_json_to({"type": "ping"})
            error = await ws.receive_json_from(timeout=TIMEOUT)
            assert error["code"] == "rate_limited"
        await ws.send_json_to({"type": "ping"})
        await expect_close(ws, CloseCode.ABUSE)


async def test_typing_and_read_reach_the_other_sockets_not_the_sender():
    session = await make_session()
    async with customer_socket(session.pk) as first, customer_socket(session.pk) as second:
        await first.receive_json_from(timeout=TIMEOUT)
        await second.receive_json_from(timeout=TIMEOUT)
        await first.send_json_to({"type": "typing", "is_typing": True})
        assert await second.receive_json_from(timeout=TIMEOUT) == {
            "type": "typing",
            "role": "customer",
            "is_typing": True,
        }
        await first.send_json_to({"type": "read", "seq": 0})
        assert await second.receive_json_from(timeout=TIMEOUT) == {
            "type": "read",
            "role": "customer",
            "seq": 0,
        }
        assert await first.receive_nothing(timeout=0.2)


# --- replay -----------------------------------------------------------------------------------


async def test_replay_sends_exactly_the_messages_after_last_seq_in_order():
    session = await make_session(handled_by="human", status="escalated")
    for n in range(1, 6):
        await post(session, f"m{n}")
    async with customer_socket(session.pk, last_seq=2) as ws:
        ready = await ws.receive_json_from(timeout=TIMEOUT)
        assert ready["last_seq"] == 2
        seqs = [(await ws.receive_json_from(timeout=TIMEOUT))["message"]["seq"] for _ in range(3)]
        assert seqs == [3, 4, 5]
        assert await ws.receive_nothing(timeout=0.2)


async def test_live_message_during_replay_is_neither_lost_nor_repeated():
    session = await make_session(handled_by="human", status="escalated")
    for n in range(1, 4):
        await post(session, f"m{n}")
    async with customer_socket(session.pk, last_seq=0) as ws:
        # Committed while the consumer may still be replaying the backlog.
        await post(session, "live")
        frames = [await ws.receive_json_from(timeout=TIMEOUT) for _ in range(5)]
        seqs = [f["message"]["seq"] for f in frames[1:]]
        assert seqs == [1, 2, 3, 4]
        assert await ws.receive_nothing(timeout=0.3)


async def test_out_of_order_broadcasts_are_delivered_in_seq_order():
    session = await make_session(handled_by="human", status="escalated")
    async with customer_socket(session.pk) as ws:
        await ws.receive_json_from(timeout=TIMEOUT)
        first = await post(session, "one")
        second = await post(session, "two")
        assert [
            (await ws.receive_json_from(timeout=TIMEOUT))["message"]["seq"] for _ in range(2)
        ] == [1, 2]
        # A late duplicate of an older broadcast is dropped; a jump ahead fills the gap.
        third = await post(session, "three")
        await ws.receive_json_from(timeout=TIMEOUT)
        from chat.services import message_event

        layer_event = await database_sync_to_async(message_event)("chat.message", first)
        from channels.layers import get_channel_layer

        await get_channel_layer().group_send(realtime.session_group(session.pk), layer_event)
        assert await ws.receive_nothing(timeout=0.2)
        assert second.seq == 2 and third.seq == 3


async def test_internal_notes_never_reach_the_customer():
    session = await make_session(handled_by="human", status="escalated")
    async with customer_socket(session.pk) as ws:
        await ws.receive_json_from(timeout=TIMEOUT)
        await post(session, "secret note", role=MessageRole.SYSTEM, internal=True)
        await post(session, "visible")
        frame = await ws.receive_json_from(timeout=TIMEOUT)
        assert frame["message"]["content"] == "visible"
        assert await ws.receive_nothing(timeout=0.2)


# --- connection registry and cleanup ---------------------------------------------------------


async def test_connection_row_exists_while_open_and_is_removed_on_disconnect():
    session = await make_session()
    async with customer_socket(session.pk) as ws:
        await ws.receive_json_from(timeout=TIMEOUT)
        rows = await database_sync_to_async(list)(Connection.objects.values("kind", "session"))
        assert rows == [{"kind": "customer", "session": session.pk}]
    assert await database_sync_to_async(Connection.objects.count)() == 0


async def test_disconnect_leaves_every_group():
    from channels.layers import get_channel_layer

    session = await make_session()
    async with customer_socket(session.pk) as ws:
        await ws.receive_json_from(timeout=TIMEOUT)
        layer = get_channel_layer()
        assert layer.groups.get(realtime.session_group(session.pk))
    await asyncio.sleep(0)
    assert not layer.groups.get(realtime.session_group(session.pk))


async def test_stale_sweep_closes_the_socket_with_4000():
    from datetime import timedelta

    from django.utils import timezone

    from chat.services import connections_cleanup_stale

    session = await make_session()
    async with customer_socket(session.pk) as ws:
        await ws.receive_json_from(timeout=TIMEOUT)
        await database_sync_to_async(Connection.objects.update)(
            last_seen_at=timezone.now() - timedelta(minutes=10)
        )
        removed = await database_sync_to_async(connections_cleanup_stale)()
        assert removed == 1
        await expect_close(ws, CloseCode.STALE)
    assert await database_sync_to_async(Connection.objects.count)() == 0


async def test_ping_refreshes_the_heartbeat(settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.CHAT_HEARTBEAT_WRITE_EVERY = 0
    session = await make_session()
    async with customer_socket(session.pk) as ws:
        await ws.receive_json_from(timeout=TIMEOUT)
        old = timezone.now() - timedelta(minutes=5)
        await database_sync_to_async(Connection.objects.update)(last_seen_at=old)
        await ws.send_json_to({"type": "ping"})
        assert await ws.receive_json_from(timeout=TIMEOUT) == {"type": "pong"}
        seen = await database_sync_to_async(lambda: Connection.objects.get().last_seen_at)()
        assert seen > old + timedelta(minutes=4)


# --- failure modes from the post-mortems ------------------------------------------------------


async def test_nothing_is_sent_before_accept_or_after_close():
    consumer = CustomerConsumer()
    assert consumer.phase is Phase.CONNECTING
    with pytest.raises(SocketNotOpen):
        await consumer.send_frame({"type": "pong"})
    consumer.phase = Phase.CLOSED
    with pytest.raises(SocketNotOpen):
        await consumer.send_frame({"type": "pong"})


def test_phase_is_an_enum_not_an_integer():
    # Comparing socket state to a bare number (1 == "connected"?) was a production bug.
    assert all(isinstance(member.value, str) for member in Phase)
    assert Phase.READY != 1 and Phase.READY != "ready"


async def test_ordinary_disconnect_is_not_logged_as_an_error(caplog):
    session = await make_session()
    caplog.set_level(logging.DEBUG)
    async with customer_socket(session.pk) as ws:
        await ws.receive_json_from(timeout=TIMEOUT)
    records = [r for r in caplog.records if r.name.startswith("chat")]
    assert any("disconnected" in r.getMessage() for r in records)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_socket_survives_a_broken_frame_sequence_and_serves_others():
    session = await make_session(handled_by="human", status="escalated")
    other = await make_session(handled_by="human", status="escalated")
    async with customer_socket(session.pk) as bad, customer_socket(other.pk) as good:
        await bad.receive_json_from(timeout=TIMEOUT)
        await good.receive_json_from(timeout=TIMEOUT)
        for junk in [" ", "[]", "null", json.dumps({"type": None}), "\x00"]:
            await bad.send_to(text_data=junk)
            assert (await bad.receive_json_from(timeout=TIMEOUT))["type"] == "error"
        await good.send_json_to({"type": "message", "content": "still here", "client_msg_id": "g"})
        assert (await receive_until(good, "ack"))[-1]["seq"] == 1


async def test_disconnect_cleanup_goes_on_when_leaving_a_group_fails(monkeypatch, caplog):
    from channels.layers import get_channel_layer

    session = await make_session()
    async with customer_socket(session.pk) as ws:
        await ws.receive_json_from(timeout=TIMEOUT)
        layer = get_channel_layer()

        async def broken_discard(group, channel):
            raise ConnectionError("redis went away")

        monkeypatch.setattr(layer, "group_discard", broken_discard)
    assert await database_sync_to_async(Connection.objects.count)() == 0
    assert any("Could not leave group" in r.getMessage() for r in caplog.records)
