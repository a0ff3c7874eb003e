"""Publishing events: after commit only, one delivery per subscribed endpoint, no notes."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from chat.models import MessageRole
from chat.services import message_create, note_add
from sessions_app.services import session_close, session_open, session_rate
from tests.factories import StaffFactory
from webhooks.models import DeliveryStatus, WebhookDelivery
from webhooks.services import endpoint_create
from webhooks.signing import signature_header
from webhooks.tests.receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _local_targets(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True


class Boom(Exception):
    pass


def test_no_event_for_a_rolled_back_transaction():
    with Receiver() as receiver:
        endpoint_create(url=receiver.url, events=["session.created", "message.created"])
        with pytest.raises(Boom), transaction.atomic():
            opened = session_open()
            message_create(session_id=opened.session.pk, role=MessageRole.CUSTOMER, content="hi")
            raise Boom()
        assert not WebhookDelivery.objects.exists()
        assert receiver.requests == []


def test_one_delivery_per_subscribed_endpoint_and_signed_body():
    with Receiver() as first, Receiver() as second, Receiver() as other:
        created = endpoint_create(url=first.url, events=["session.created"])
        endpoint_create(url=second.url, events=["session.created", "session.closed"])
        endpoint_create(url=other.url, events=["session.closed"])
        with transaction.atomic():
            opened = session_open(customer_name="Ada")
        assert WebhookDelivery.objects.filter(event_type="session.created").count() == 2
        assert other.requests == []
        request = first.requests[0]
        body = json.loads(request.body)
        assert body["type"] == "session.created"
        assert body["data"]["session"]["id"] == str(opened.session.pk)
        assert body["data"]["session"]["customer_name"] == "Ada"
        assert set(body) == {"id", "type", "created_at", "data"}
        assert request.headers["X-Supportdesk-Event"] == "session.created"
        assert request.headers["Content-Type"] == "application/json"
        delivery = WebhookDelivery.objects.get(pk=request.headers["X-Supportdesk-Delivery"])
        assert delivery.status == DeliveryStatus.SUCCEEDED
        timestamp = int(request.headers["X-Supportdesk-Signature"].split(",")[0][2:])
        assert request.headers["X-Supportdesk-Signature"] == signature_header(
            secret=created.secret, body=request.body, timestamp=timestamp
        )
        # Both endpoints got the same event id.
        assert json.loads(second.requests[0].body)["id"] == body["id"]


def test_internal_notes_are_not_sent_but_messages_are():
    with Receiver() as receiver:
        endpoint_create(url=receiver.url, events=["message.created"])
        opened = session_open()
        note_add(session_id=opened.session.pk, user=StaffFactory(), content="private remark")
        message_create(session_id=opened.session.pk, role=MessageRole.CUSTOMER, content="hello")
        receiver.wait_for(lambda requests: len(requests) >= 1)
        sent = [json.loads(r.body)["data"]["message"] for r in receiver.requests]
        assert "private remark" not in [message["content"] for message in sent]
        assert sent[0]["content"] == "hello" and sent[0]["role"] == "customer"
        assert "internal" not in sent[0]  # the customer-facing shape, as the REST API shows it


def test_closed_and_csat_events_carry_the_session():
    with Receiver() as receiver:
        endpoint_create(url=receiver.url, events=["session.closed", "csat.submitted"])
        opened = session_open()
        session_close(session_id=opened.session.pk)
        session_rate(session_id=opened.session.pk, csat=4, comment="Quick, thanks")
        bodies = [json.loads(r.body) for r in receiver.requests]
        assert [b["type"] for b in bodies] == ["session.closed", "csat.submitted"]
        assert bodies[1]["data"]["csat"] == 4
        assert bodies[1]["data"]["comment"] == "Quick, thanks"
        assert bodies[1]["data"]["session"]["csat_comment"] == "Quick, thanks"
        assert bodies[1]["data"]["session"]["status"] == "closed"


def test_a_webhook_failure_never_fails_the_change(monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("webhooks are down")

    monkeypatch.setattr("webhooks.receivers.event_publish", broken)
    with Receiver() as receiver:
        endpoint_create(url=receiver.url, events=["session.created"])
        opened = session_open()
        assert opened.session.pk is not None


def test_lifecycle_events_escalated_and_assigned():
    from sessions_app.services import session_assign, session_escalate, session_take_over

    agent, other = StaffFactory(), StaffFactory()
    with Receiver() as receiver:
        endpoint_create(url=receiver.url, events=["session.escalated", "session.assigned"])
        first = session_open().session
        session_escalate(session_id=first.pk, reason="customer_request")
        session_take_over(session_id=first.pk, user=agent)
        session_assign(session_id=first.pk, assignee=other, actor=agent)
        bodies = [json.loads(r.body) for r in receiver.requests]
    assert [b["type"] for b in bodies] == [
        "session.escalated",
        "session.assigned",
        "session.assigned",
    ]
    assert bodies[0]["data"]["session"]["status"] == "escalated"
    assert bodies[1]["data"]["session"]["assignee"]["id"] == agent.pk
    assert bodies[2]["data"]["session"]["assignee"]["id"] == other.pk


def test_subscriptions_are_read_once_and_an_endpoint_gets_the_very_next_event():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    opened = session_open()

    def endpoint_reads(content: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            message_create(session_id=opened.session.pk, role=MessageRole.CUSTOMER, content=content)
        return sum("webhooks_webhookendpoint" in q["sql"] for q in queries.captured_queries)

    endpoint_reads("warm the cache")
    assert endpoint_reads("no subscriber: nothing read") == 0
    with Receiver() as receiver:
        endpoint_create(url=receiver.url, events=["message.created"])  # bumps the version
        assert endpoint_reads("the very next message") >= 1
        assert [json.loads(r.body)["data"]["message"]["content"] for r in receiver.requests] == [
            "the very next message"
        ]
