"""The one message path: seq allocation, idempotency, broadcast only after commit."""

from __future__ import annotations

import json
import threading

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction

from chat.exceptions import MessageRejected, MessageTooLong
from chat.models import Message, MessageRole
from chat.services import message_create
from sessions_app.exceptions import SessionClosed, SessionNotFound
from supportdesk import realtime
from tests.factories import SupportSessionFactory

pytestmark = pytest.mark.django_db(transaction=True)


def listen(session_id):
    """Return a channel subscribed to the session's group, and a reader of what arrived."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(realtime.session_group(session_id), channel)

    def received() -> list[dict]:
        events = []
        while True:
            try:
                events.append(async_to_sync(_receive_now)(layer, channel))
            except TimeoutError:
                return events

    return received


async def _receive_now(layer, channel):
    import asyncio

    return await asyncio.wait_for(layer.receive(channel), timeout=0.05)


def test_seq_is_allocated_1_2_3_per_session():
    first, second = (
        SupportSessionFactory(handled_by="human"),
        SupportSessionFactory(handled_by="human"),
    )
    seqs = [
        message_create(session_id=s.pk, role="customer", content="hi").message.seq
        for s in (first, first, second, first)
    ]
    assert seqs == [1, 2, 1, 3]
    first.refresh_from_db()
    assert first.last_seq == 3


def test_seq_has_no_gaps_or_repeats_under_concurrent_writers():
    session = SupportSessionFactory(handled_by="human")
    errors = []

    def writer(n):
        try:
            for i in range(10):
                message_create(session_id=session.pk, role="customer", content=f"{n}-{i}")
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    seqs = sorted(Message.objects.filter(session=session).values_list("seq", flat=True))
    assert seqs == list(range(1, 51))


def test_repeated_client_msg_id_is_stored_once():
    session = SupportSessionFactory(handled_by="human")
    first = message_create(session_id=session.pk, role="customer", content="a", client_msg_id="m-1")
    again = message_create(session_id=session.pk, role="customer", content="a", client_msg_id="m-1")
    assert first.created and not again.created
    assert again.message.pk == first.message.pk
    assert Message.objects.count() == 1
    session.refresh_from_db()
    assert session.last_seq == 1


def test_same_client_msg_id_in_another_session_is_a_different_message():
    one, two = SupportSessionFactory(handled_by="human"), SupportSessionFactory(handled_by="human")
    message_create(session_id=one.pk, role="customer", content="a", client_msg_id="x")
    message_create(session_id=two.pk, role="customer", content="a", client_msg_id="x")
    assert Message.objects.count() == 2


def test_second_reply_to_the_same_message_is_not_stored():
    session = SupportSessionFactory(handled_by="human")
    question = message_create(session_id=session.pk, role="customer", content="q").message
    first = message_create(
        session_id=session.pk, role="assistant", content="a1", in_reply_to_id=question.pk
    )
    second = message_create(
        session_id=session.pk, role="assistant", content="a2", in_reply_to_id=question.pk
    )
    assert not second.created and second.message.pk == first.message.pk


def test_broadcast_happens_only_after_commit():
    session = SupportSessionFactory(handled_by="human")
    received = listen(session.pk)
    with transaction.atomic():
        message_create(session_id=session.pk, role="customer", content="hello")
        assert received() == []  # nothing leaves before the commit
    events = received()
    assert [e["type"] for e in events] == ["chat.message"]
    assert json.loads(events[0]["text"])["message"]["content"] == "hello"


def test_rolled_back_message_is_never_broadcast():
    session = SupportSessionFactory(handled_by="human")
    received = listen(session.pk)
    with pytest.raises(RuntimeError), transaction.atomic():
        message_create(session_id=session.pk, role="customer", content="hello")
        raise RuntimeError("roll back")
    assert received() == []
    assert Message.objects.count() == 0


@pytest.mark.parametrize("content", ["", "   ", None, 42])
def test_empty_or_non_text_content_is_rejected(content):
    session = SupportSessionFactory()
    with pytest.raises(MessageRejected):
        message_create(session_id=session.pk, role="customer", content=content)


def test_too_long_content_is_rejected(settings):
    settings.CHAT_MAX_MESSAGE_CHARS = 5
    session = SupportSessionFactory()
    with pytest.raises(MessageTooLong):
        message_create(session_id=session.pk, role="customer", content="123456")


def test_closed_session_refuses_customer_messages():
    session = SupportSessionFactory(status="closed")
    with pytest.raises(SessionClosed):
        message_create(session_id=session.pk, role=MessageRole.CUSTOMER, content="hi")


def test_unknown_session_is_reported():
    with pytest.raises(SessionNotFound):
        message_create(
            session_id="6f1c1f7e-0000-4000-8000-000000000000", role="customer", content="hi"
        )
