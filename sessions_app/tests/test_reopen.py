"""session_reopen: the documented rule (escalated back to its person, or open for the AI)."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from chat.models import Message
from sessions_app import services
from supportdesk import realtime
from tests.factories import StaffFactory, SupportSessionFactory

pytestmark = pytest.mark.django_db(transaction=True)


def events_on(group: str):
    """Subscribe to ``group``; return a reader of the events that arrived so far."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)

    async def drain():
        import asyncio

        events = []
        while True:
            try:
                events.append(await asyncio.wait_for(layer.receive(channel), timeout=0.05))
            except TimeoutError:
                return events

    return lambda: async_to_sync(drain)()


def test_a_human_handled_session_reopens_escalated_to_the_same_agent():
    agent = StaffFactory()
    session = SupportSessionFactory(status="closed", handled_by="human", assignee=agent, csat=4)
    reopened = services.session_reopen(session_id=session.pk, actor=agent)
    assert (reopened.status, reopened.handled_by, reopened.assignee) == (
        "escalated",
        "human",
        agent,
    )
    assert reopened.closed_at is None and reopened.csat == 4
    event = Message.objects.filter(session=session).values_list("metadata__event", flat=True)
    assert list(event) == ["reopened"]


def test_a_session_whose_agent_left_reopens_in_the_queue():
    gone = StaffFactory(is_active=False)
    session = SupportSessionFactory(status="closed", handled_by="human", assignee=gone)
    reopened = services.session_reopen(session_id=session.pk)
    assert (reopened.status, reopened.handled_by, reopened.assignee) == ("escalated", "ai", None)


def test_an_ai_handled_session_reopens_open():
    session = SupportSessionFactory(status="closed")
    reopened = services.session_reopen(session_id=session.pk)
    assert (reopened.status, reopened.handled_by) == ("open", "ai")


def test_reopening_a_session_that_is_not_closed_changes_nothing():
    session = SupportSessionFactory(status="escalated")
    assert services.session_reopen(session_id=session.pk).status == "escalated"
    assert not Message.objects.filter(session=session).exists()


def test_reopen_is_broadcast_only_after_commit():
    session = SupportSessionFactory(status="closed")
    received = events_on(realtime.AGENTS_GROUP)
    with transaction.atomic():
        services.session_reopen(session_id=session.pk)
        assert [e for e in received() if e["type"] == "session.updated"] == []
    updates = [e for e in received() if e["type"] == "session.updated"]
    assert updates and updates[-1]["session"]["status"] == "open"


def test_a_rolled_back_reopen_is_never_broadcast():
    session = SupportSessionFactory(status="closed")
    received = events_on(realtime.AGENTS_GROUP)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.session_reopen(session_id=session.pk)
        raise RuntimeError("rolled back")
    assert [e for e in received() if e["type"] == "session.updated"] == []
    session.refresh_from_db()
    assert session.status == "closed"
