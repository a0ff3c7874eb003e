"""The hand-built message payload matches the DRF serializers that document it (OpenAPI)."""

from __future__ import annotations

import json

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from chat.serializers import (
    MessageSerializer,
    StaffMessageSerializer,
    message_frame,
    message_payload,
)
from chat.services import message_create
from tests.factories import StaffFactory, SupportSessionFactory

pytestmark = pytest.mark.django_db


def _drf(serializer, message) -> dict:
    return json.loads(json.dumps(serializer(message).data, cls=DjangoJSONEncoder))


def _messages():
    session = SupportSessionFactory(handled_by="human")
    agent = StaffFactory(first_name="Ada", last_name="Agent")
    question = message_create(
        session_id=session.pk, role="customer", content="Où est ma commande ?", client_msg_id="q"
    ).message
    answer = message_create(
        session_id=session.pk,
        role="assistant",
        content="Here.",
        sources=[{"article_id": 3, "title": "Shipping", "score": 0.5}],
        confidence=0.75,
        in_reply_to_id=question.pk,
        metadata={"decision": "answer"},
    ).message
    note = message_create(
        session_id=session.pk, role="system", content="n", author=agent, internal=True
    ).message
    return [question, answer, note]


@pytest.mark.parametrize("for_staff", [False, True])
def test_payload_is_what_the_serializer_documents(for_staff):
    serializer = StaffMessageSerializer if for_staff else MessageSerializer
    for message in _messages():
        # Both as just stored (the broadcast's copy) and as read back (REST, replay).
        fresh = message_payload(message, for_staff=for_staff)
        reread = message_payload(type(message).objects.get(pk=message.pk), for_staff=for_staff)
        documented = _drf(serializer, type(message).objects.get(pk=message.pk))
        assert fresh == documented
        assert reread == documented
        assert list(fresh) == list(serializer.Meta.fields)


def test_the_frame_is_the_payload_encoded_once():
    message = _messages()[0]
    payload = message_payload(message)
    assert json.loads(message_frame(payload)) == {"type": "message", "message": payload}
