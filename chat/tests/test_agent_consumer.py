"""The agent console socket /ws/agent/: staff only, inbox, join, take over, notes, close."""

from __future__ import annotations

import contextlib
import json
import time

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from chat.consumers import CloseCode
from chat.models import Message
from chat.services import message_create
from sessions_app.models import SupportSession
from sessions_app.services import session_escalate
from supportdesk.asgi import application
from tests.factories import StaffFactory, SupportSessionFactory, UserFactory

from .conftest import TIMEOUT, customer_socket

pytestmark = pytest.mark.django_db(transaction=True)


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


@contextlib.asynccontextmanager
async def agent_socket(user=None):
    headers = []
    if user is not None:
        headers.append((b"cookie", await database_sync_to_async(session_cookie)(user)))
    communicator = WebsocketCommunicator(application, "/ws/agent/", headers=headers)
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    try:
        yield communicator
    finally:
        await communicator.disconnect()


async def frames_until(ws, predicate, limit=30):
    seen = []
    for _ in range(limit):
        frame = await ws.receive_json_from(timeout=TIMEOUT)
        seen.append(frame)
        if predicate(frame):
            return seen
    raise AssertionError(f"no matching frame in {seen}")


async def ready_agent(ws):
    """Consume the ready, inbox and presence frames of a fresh console socket."""
    ready = await ws.receive_json_from(timeout=TIMEOUT)
    assert ready["type"] == "ready"
    inbox = await ws.receive_json_from(timeout=TIMEOUT)
    assert inbox["type"] == "inbox"
    await frames_until(ws, lambda f: f["type"] == "presence")
    return ready, inbox


@database_sync_to_async
def make(factory, **kwargs):
    return factory(**kwargs)


async def test_anonymous_and_non_staff_are_closed_4003():
    async with agent_socket() as ws:
        assert await ws.receive_output(timeout=TIMEOUT) == {
            "type": "websocket.close",
            "code": CloseCode.FORBIDDEN,
        }
    customer_user = await make(UserFactory)
    async with agent_socket(customer_user) as ws:
        output = await ws.receive_output(timeout=TIMEOUT)
        assert output["code"] == CloseCode.FORBIDDEN


async def test_ready_lists_agents_canned_and_inbox_with_escalated_first():
    agent = await make(StaffFactory)
    open_session = await make(SupportSessionFactory)
    escalated = await make(SupportSessionFactory)
    await database_sync_to_async(session_escalate)(session_id=escalated.pk, reason="test")
    async with agent_socket(agent) as ws:
        ready, inbox = await ready_agent(ws)
        assert ready["user"]["id"] == agent.pk
        assert {
            "id": agent.pk,
            "name": ready["user"]["name"],
            "online": True,
            "away": False,
        } in ready["agents"]
        ids = [s["id"] for s in inbox["sessions"]]
        assert ids == [str(escalated.pk), str(open_session.pk)]
        assert inbox["sessions"][0]["escalated_at"]


async def test_new_escalation_reaches_the_inbox_at_once():
    agent = await make(StaffFactory)
    session = await make(SupportSessionFactory)
    async with agent_socket(agent) as ws:
        await ready_agent(ws)
        await database_sync_to_async(session_escalate)(
            session_id=session.pk, reason="human_requested"
        )
        frames = await frames_until(ws, lambda f: f["type"] == "escalation")
        escalation = frames[-1]
        assert escalation["session"]["id"] == str(session.pk)
        assert escalation["session"]["status"] == "escalated"
        assert escalation["reason"] == "human_requested"


async def test_take_over_reply_and_the_customer_sees_it():
    agent = await make(StaffFactory, first_name="Dana", last_name="Lee")
    session = await make(SupportSessionFactory)
    async with customer_socket(session.pk) as customer, agent_socket(agent) as ws:
        await customer.receive_json_from(timeout=TIMEOUT)
        await ready_agent(ws)
        await ws.send_json_to({"type": "join", "session_id": str(session.pk)})
        await frames_until(ws, lambda f: f["type"] == "joined")
        presence = await customer.receive_json_from(timeout=TIMEOUT)
        assert presence == {
            "type": "presence",
            "role": "agent",
            "name": "Dana Lee",
            "present": True,
        }
        # Replying to a conversation nobody holds takes it over, with a visible note.
        await ws.send_json_to(
            {
                "type": "message",
                "session_id": str(session.pk),
                "content": "Hi, I'm Dana",
                "client_msg_id": "a2",
            }
        )
        frames = await frames_until(
            customer, lambda f: f["type"] == "session" and f["session"]["handled_by"] == "human"
        )
        assert frames[-1]["session"]["assignee_name"] == "Dana Lee"
        took_note = [f for f in frames if f["type"] == "message"][-1]["message"]
        assert took_note["role"] == "system"
        assert took_note["content"] == "Dana Lee took the conversation."
        ack = (await frames_until(ws, lambda f: f["type"] == "ack"))[-1]
        assert ack["client_msg_id"] == "a2" and ack["session_id"] == str(session.pk)
        reply = (await frames_until(customer, lambda f: f["type"] == "message"))[-1]["message"]
        assert reply["role"] == "agent" and reply["author"]["name"] == "Dana Lee"
        # And the customer's answer reaches the console.
        await customer.send_json_to(
            {"type": "message", "content": "Thanks!", "client_msg_id": "c1"}
        )
        got = await frames_until(
            ws, lambda f: f["type"] == "message" and f["message"]["role"] == "customer"
        )
        assert got[-1]["message"]["content"] == "Thanks!"
    assert not await database_sync_to_async(
        Message.objects.filter(role="assistant").exists
    )()  # the AI stayed quiet


async def test_second_agent_cannot_take_over():
    first, second = await make(StaffFactory), await make(StaffFactory)
    session = await make(SupportSessionFactory)
    async with agent_socket(first) as one, agent_socket(second) as two:
        await ready_agent(one)
        await ready_agent(two)
        await one.send_json_to({"type": "take_over", "session_id": str(session.pk)})
        await frames_until(
            one, lambda f: f["type"] == "inbox_update" and f["session"]["handled_by"] == "human"
        )
        await two.send_json_to({"type": "take_over", "session_id": str(session.pk)})
        error = (await frames_until(two, lambda f: f["type"] == "error"))[-1]
        assert error["code"] == "already_assigned"
    stored = await database_sync_to_async(SupportSession.objects.get)(pk=session.pk)
    assert stored.assignee_id == first.pk


async def test_notes_never_reach_the_customer():
    agent = await make(StaffFactory)
    session = await make(SupportSessionFactory, handled_by="human", status="escalated")
    async with customer_socket(session.pk) as customer, agent_socket(agent) as ws:
        await customer.receive_json_from(timeout=TIMEOUT)
        await ready_agent(ws)
        await ws.send_json_to({"type": "join", "session_id": str(session.pk)})
        await frames_until(ws, lambda f: f["type"] == "joined")
        await customer.receive_json_from(timeout=TIMEOUT)  # presence
        await ws.send_json_to(
            {
                "type": "note",
                "session_id": str(session.pk),
                "content": "VIP, be nice",
                "client_msg_id": "n1",
            }
        )
        note = (await frames_until(ws, lambda f: f["type"] == "message"))[-1]["message"]
        assert note["internal"] is True and note["content"] == "VIP, be nice"
        assert await customer.receive_nothing(timeout=0.3)
    # Nor does a reconnecting customer get it in the replay.
    async with customer_socket(session.pk, last_seq=0) as customer:
        await customer.receive_json_from(timeout=TIMEOUT)
        assert await customer.receive_nothing(timeout=0.3)


async def test_release_resumes_ai_answers(demo_kb):
    agent = await make(StaffFactory)
    session = await make(SupportSessionFactory)
    await database_sync_to_async(
        lambda: __import__("sessions_app.services", fromlist=["x"]).session_take_over(
            session_id=session.pk, user=agent
        )
    )()
    async with agent_socket(agent) as ws:
        await ready_agent(ws)
        await ws.send_json_to({"type": "release", "session_id": str(session.pk)})
        await frames_until(
            ws, lambda f: f["type"] == "inbox_update" and f["session"]["handled_by"] == "ai"
        )
    question = await database_sync_to_async(message_create)(
        session_id=session.pk, role="customer", content="How do I reset my password?"
    )
    reply = await database_sync_to_async(Message.objects.get)(in_reply_to=question.message)
    assert reply.role == "assistant"


async def test_close_produces_the_rating_prompt_for_the_customer():
    agent = await make(StaffFactory)
    session = await make(SupportSessionFactory, handled_by="human", status="escalated")
    async with customer_socket(session.pk) as customer, agent_socket(agent) as ws:
        await customer.receive_json_from(timeout=TIMEOUT)
        await ready_agent(ws)
        await ws.send_json_to({"type": "close", "session_id": str(session.pk)})
        frames = await frames_until(
            customer, lambda f: f["type"] == "session" and f["session"]["status"] == "closed"
        )
        prompt = [f for f in frames if f["type"] == "message"][-1]["message"]
        assert prompt["role"] == "system" and "rate" in prompt["content"]


async def test_bad_console_frames_get_errors():
    agent = await make(StaffFactory)
    async with agent_socket(agent) as ws:
        await ready_agent(ws)
        for frame, code in [
            ({"type": "join", "session_id": "undefined"}, "invalid_field"),
            ({"type": "join", "session_id": "6f1c1f7e-0000-4000-8000-000000000000"}, "not_found"),
            ({"type": "inbox", "filter": "everything"}, "invalid_field"),
            (
                {
                    "type": "assign",
                    "session_id": "6f1c1f7e-0000-4000-8000-000000000000",
                    "user_id": "x",
                },
                "invalid_field",
            ),
        ]:
            await ws.send_json_to(frame)
            error = (await frames_until(ws, lambda f: f["type"] == "error"))[-1]
            assert error["code"] == code, frame


async def test_inbox_filters_and_search():
    agent = await make(StaffFactory)
    mine = await make(
        SupportSessionFactory,
        customer_name="Zed Mine",
        assignee=agent,
        handled_by="human",
        status="escalated",
    )
    await make(SupportSessionFactory, customer_name="Other Person")
    await database_sync_to_async(message_create)(
        session_id=mine.pk, role="customer", content="my parcel is lost"
    )
    async with agent_socket(agent) as ws:
        await ready_agent(ws)
        await ws.send_json_to({"type": "inbox", "filter": "mine"})
        rows = (await frames_until(ws, lambda f: f["type"] == "inbox"))[-1]["sessions"]
        assert [r["id"] for r in rows] == [str(mine.pk)]
        assert rows[0]["unanswered"] == 1
        assert rows[0]["last_message"]["content"] == "my parcel is lost"
        await ws.send_json_to({"type": "inbox", "filter": "all", "search": "parcel"})
        rows = (await frames_until(ws, lambda f: f["type"] == "inbox"))[-1]["sessions"]
        assert [r["id"] for r in rows] == [str(mine.pk)]


def test_inbox_query_count_is_constant(django_assert_num_queries, db):
    from chat.selectors import inbox_sessions
    from chat.serializers import inbox_summary

    for n in range(15):
        session = SupportSessionFactory()
        message_create(session_id=session.pk, role="customer", content=f"q{n}")
    with django_assert_num_queries(2):  # the rows, and their labels (prefetched)
        rows = [inbox_summary(s) for s in inbox_sessions()[:100]]
    assert len(rows) == 15


async def test_join_replays_with_notes_and_leave_stops_the_stream():
    agent = await make(StaffFactory, first_name="Dana", last_name="Lee")
    session = await make(SupportSessionFactory, handled_by="human", status="escalated")
    await database_sync_to_async(message_create)(
        session_id=session.pk, role="customer", content="first"
    )
    from chat.services import note_add

    await database_sync_to_async(note_add)(session_id=session.pk, user=agent, content="n")
    async with customer_socket(session.pk) as customer, agent_socket(agent) as ws:
        await customer.receive_json_from(timeout=TIMEOUT)
        await customer.receive_json_from(timeout=TIMEOUT)  # replayed "first"
        await ready_agent(ws)
        await ws.send_json_to({"type": "join", "session_id": str(session.pk), "last_seq": 0})
        frames = await frames_until(ws, lambda f: f["type"] == "joined")
        replay = [f["message"] for f in frames if f["type"] == "message"]
        assert [(m["seq"], m["internal"]) for m in replay] == [(1, False), (2, True)]
        assert (await customer.receive_json_from(timeout=TIMEOUT))["present"] is True
        await ws.send_json_to({"type": "leave", "session_id": str(session.pk)})
        assert await customer.receive_json_from(timeout=TIMEOUT) == {
            "type": "presence",
            "role": "agent",
            "name": "Dana Lee",
            "present": False,
        }
        await customer.send_json_to(
            {"type": "message", "content": "anyone?", "client_msg_id": "c9"}
        )
        updates = await frames_until(ws, lambda f: f["type"] == "inbox_update")
        assert not [f for f in updates if f["type"] == "message"]
        assert updates[-1]["session"]["last_message"]["content"] == "anyone?"


async def test_a_burst_of_messages_becomes_one_inbox_update_per_session():
    agent = await make(StaffFactory)
    session = await make(SupportSessionFactory, handled_by="human", status="escalated")

    def burst():
        for n in range(10):
            message_create(session_id=session.pk, role="customer", content=f"m{n}")

    async with agent_socket(agent) as ws:
        await ready_agent(ws)
        await database_sync_to_async(burst)()
        updates = [(await frames_until(ws, lambda f: f["type"] == "inbox_update"))[-1]]
        while not await ws.receive_nothing(timeout=0.6):
            updates.append(await ws.receive_json_from(timeout=TIMEOUT))
        # Batched: ten messages give a handful of updates at most (one on a quiet machine),
        # and the last one is complete.
        assert 1 <= len(updates) <= 3
        assert updates[-1]["session"]["last_message"]["seq"] == 10
        assert updates[-1]["session"]["unanswered"] == 10


async def test_every_console_of_a_process_shares_one_inbox_row_query(monkeypatch):
    from chat import inbox_feed

    fetches = []
    real_rows = inbox_feed._rows

    def counting_rows(session_ids):
        fetches.append(set(session_ids))
        return real_rows(session_ids)

    monkeypatch.setattr(inbox_feed, "_rows", counting_rows)
    agents = [await make(StaffFactory) for _ in range(5)]
    session = await make(SupportSessionFactory, handled_by="human", status="escalated")
    async with contextlib.AsyncExitStack() as stack:
        sockets = [await stack.enter_async_context(agent_socket(agent)) for agent in agents]
        for ws in sockets:
            await ready_agent(ws)
        await database_sync_to_async(message_create)(
            session_id=session.pk, role="customer", content="one for all"
        )
        rows = [
            (await frames_until(ws, lambda f: f["type"] == "inbox_update"))[-1]["session"]
            for ws in sockets
        ]
    assert {row["last_message"]["content"] for row in rows} == {"one for all"}
    # One fetch for five consoles (the feed's window); each socket used to run its own.
    assert fetches == [{str(session.pk)}]
    assert inbox_feed.inbox_feed()._subscribers == {}  # every closed socket unsubscribed


async def test_a_row_touched_while_the_feed_queries_is_sent_by_the_next_flush(monkeypatch):
    import asyncio

    from chat import inbox_feed

    fetched, querying = [], asyncio.Event()

    def slow_rows(session_ids):
        fetched.append(set(session_ids))
        time.sleep(0.3)  # the query is still running when the next message arrives
        return [{"id": session_id} for session_id in sorted(session_ids)]

    monkeypatch.setattr(inbox_feed, "_rows", slow_rows)
    feed = inbox_feed.InboxFeed(window=0.05)
    delivered = []

    async def deliver(texts):
        delivered.extend(texts)
        querying.set()

    feed.subscribe("console", deliver)
    feed.touch("a")
    await asyncio.sleep(0.15)  # the first flush is now inside its query
    feed.touch("b")
    await asyncio.wait_for(querying.wait(), timeout=5)
    for _ in range(50):
        if len(delivered) == 2:
            break
        await asyncio.sleep(0.05)
    assert fetched == [{"a"}, {"b"}]
    assert [json.loads(text)["session"]["id"] for text in delivered] == ["a", "b"]
    feed.unsubscribe("console")
