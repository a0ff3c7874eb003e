"""Conversation states over sockets: reopen on the customer's reply, the console's undo, inbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from chat.selectors import inbox_sessions
from chat.serializers import inbox_summary
from chat.services import message_create
from sessions_app import services, triage
from sessions_app.models import Label, SupportSession
from tests.factories import StaffFactory, SupportSessionFactory

from .conftest import TIMEOUT, customer_socket, receive_until
from .test_agent_consumer import agent_socket, frames_until, make, ready_agent

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_customer_reply_soon_after_the_close_reopens_it_for_its_agent(settings):
    settings.SESSION_REOPEN_WITHIN = 3600
    agent = await make(StaffFactory)
    session = await make(
        SupportSessionFactory, status="escalated", handled_by="human", assignee=agent
    )
    await database_sync_to_async(services.session_close)(session_id=session.pk, actor=agent)
    async with customer_socket(session.pk) as ws:
        ready = await ws.receive_json_from(timeout=TIMEOUT)
        assert ready["session"]["status"] == "closed"
        assert "labels" not in ready["session"]  # triage is staff-only
        await receive_until(ws, "message")  # the replayed rating prompt
        await ws.send_json_to(
            {"type": "message", "content": "Wait, one more", "client_msg_id": "c1"}
        )
        frames, reopened_frame, ack = [], None, None
        while reopened_frame is None or ack is None:  # in either order
            frame = await ws.receive_json_from(timeout=TIMEOUT)
            frames.append(frame)
            if frame["type"] == "session" and frame["session"]["status"] == "escalated":
                reopened_frame = frame
            elif frame["type"] == "ack":
                ack = frame
        frames += await frames_until(
            ws, lambda f: f["type"] == "message" and f["message"]["content"] == "Wait, one more"
        )
        assert "error" not in [f["type"] for f in frames]
        assert ack["client_msg_id"] == "c1"
        assert [m["message"]["content"] for m in frames if m["type"] == "message"] == [
            "This conversation has been reopened.",
            "Wait, one more",
        ]
    reopened = await database_sync_to_async(SupportSession.objects.get)(pk=session.pk)
    assert (reopened.status, reopened.assignee_id) == ("escalated", agent.pk)


async def test_after_the_window_the_customer_gets_session_closed(settings):
    settings.SESSION_REOPEN_WITHIN = 60
    session = await make(SupportSessionFactory)
    await database_sync_to_async(services.session_close)(session_id=session.pk)
    await database_sync_to_async(SupportSession.objects.filter(pk=session.pk).update)(
        closed_at=timezone.now() - timedelta(minutes=5)
    )
    async with customer_socket(session.pk) as ws:
        await receive_until(ws, "message")
        await ws.send_json_to({"type": "message", "content": "hello?", "client_msg_id": "c2"})
        error = (await receive_until(ws, "error"))[-1]
        assert error["code"] == "session_closed"


async def test_the_consoles_undo_reopens_as_it_was():
    agent = await make(StaffFactory)
    session = await make(
        SupportSessionFactory, status="escalated", handled_by="human", assignee=agent
    )
    async with agent_socket(agent) as ws:
        await ready_agent(ws)
        await ws.send_json_to({"type": "join", "session_id": str(session.pk)})
        await frames_until(ws, lambda f: f["type"] == "joined")
        await ws.send_json_to({"type": "close", "session_id": str(session.pk)})
        await frames_until(
            ws, lambda f: f["type"] == "session" and f["session"]["status"] == "closed"
        )
        await ws.send_json_to({"type": "reopen", "session_id": str(session.pk)})
        frames = await frames_until(
            ws, lambda f: f["type"] == "session" and f["session"]["status"] != "closed"
        )
        back = frames[-1]["session"]
        assert back["status"] == "escalated" and back["assignee"]["id"] == agent.pk


def _rows(**kwargs):
    return {row["id"]: row for row in map(inbox_summary, inbox_sessions(**kwargs))}


def test_inbox_hides_snoozed_sessions_and_filters_by_label_and_priority():
    snoozed, urgent, tagged = SupportSessionFactory.create_batch(3)
    triage.session_snooze(session_id=snoozed.pk, until=timezone.now() + timedelta(hours=1))
    triage.session_set_priority(session_id=urgent.pk, priority="urgent")
    tagged.labels.add(Label.objects.create(name="Refund", color="#dc2626"))
    assert str(snoozed.pk) not in _rows()
    assert list(_rows(filter_name="snoozed")) == [str(snoozed.pk)]
    assert list(_rows(priority="urgent")) == [str(urgent.pk)]
    row = _rows(label="refund")[str(tagged.pk)]
    assert row["labels"] == [{"id": tagged.labels.get().pk, "name": "Refund", "color": "#dc2626"}]


def _waiting(session):
    value = _rows()[str(session.pk)]["waiting_since"]
    return None if value is None else parse_datetime(value)


def _same_ms(a, b) -> bool:
    return abs((a - b).total_seconds()) < 0.001  # frames carry milliseconds


def test_waiting_counts_only_while_the_customer_waits():
    agent = StaffFactory()
    handed_over = timezone.now() - timedelta(minutes=7)
    session = SupportSessionFactory(status="escalated", escalated_at=handed_over)
    assert _same_ms(_waiting(session), handed_over)  # in the queue: waiting since the hand-over
    message_create(session_id=session.pk, role="customer", content="Hello?")
    assert _same_ms(_waiting(session), handed_over)  # still nobody answered
    services.session_take_over(session_id=session.pk, user=agent)
    message_create(session_id=session.pk, role="agent", content="Hi!", author=agent)
    assert _waiting(session) is None  # the agent answered: not waiting
    note = message_create(session_id=session.pk, role="system", content="n", internal=True)
    assert note.message and _waiting(session) is None  # a private note is no message to wait on
    again = message_create(session_id=session.pk, role="customer", content="Thanks, and…")
    assert _same_ms(_waiting(session), again.message.created_at)
    message_create(session_id=session.pk, role="customer", content="Hello??")
    assert _same_ms(_waiting(session), again.message.created_at)  # the oldest unanswered
    services.session_close(session_id=session.pk)
    assert _waiting(session) is None
