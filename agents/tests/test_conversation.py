"""Whole conversations through the reply task: clarify, decline, hand over, never repeat."""

from __future__ import annotations

import pytest

from chat.models import Message
from chat.serializers import message_payload
from chat.services import message_create
from sessions_app.models import SupportSession
from tests.factories import SupportSessionFactory

pytestmark = pytest.mark.django_db(transaction=True)


def say(session, text: str) -> Message:
    """Store a customer message (the one message path) and return the AI's stored reply."""
    question = message_create(session_id=session.pk, role="customer", content=text).message
    return Message.objects.get(in_reply_to=question)


def test_conversation_branches_on_the_demo_shop(demo_kb):
    # One test, several sessions: each index build of the demo shop costs seconds.
    session = SupportSessionFactory()

    # Off topic: a polite decline offering a person; nobody is paged.
    weather = say(session, "What's the weather like in Paris tomorrow?")
    assert not weather.requires_escalation and weather.metadata["decision"] == "decline"
    payload = message_payload(weather)
    assert payload["suggestions"] == [
        {
            "label": "Talk to a person",
            "text": "I'd like to talk to a person",
            "article_id": None,
            "url": None,
            "action": "handover",
        }
    ]
    assert payload["confidence"] is not None  # staff still see the retrieval score
    session.refresh_from_db()
    assert (session.status, session.handled_by) == ("open", "ai")

    # A near-miss from issue #12: an order number and no question is a clarifying question.
    shoes = say(session, "Hi, I ordered shoes last week (order 4411)")
    assert shoes.metadata["decision"] == "clarify" and "order 4411" in shoes.content
    titles = [s["label"] for s in message_payload(shoes)["suggestions"]]
    assert "Tracking your order" in titles and titles[-1] == "Talk to a person"

    # Pressing an article's quick reply sends its title, which the agent answers from it.
    tracked = say(session, "Tracking your order")
    assert not tracked.requires_escalation
    assert [s["title"] for s in tracked.sources] == ["Tracking your order"]

    # "Are you still there?" gets a short reply, not the previous answer again.
    still = say(session, "Are you still there?")
    assert still.content.startswith("Yes, I'm here") and still.content != tracked.content
    session.refresh_from_db()
    assert session.status == "open"


def test_two_unclear_messages_hand_over(demo_kb):
    session = SupportSessionFactory()
    first = say(session, "asdfgh")
    assert first.metadata["decision"] == "clarify" and not first.requires_escalation
    assert SupportSession.objects.get(pk=session.pk).status == "open"
    second = say(session, "qwerty zxcv")
    assert second.requires_escalation and "repeated_unclear" in second.metadata["reasons"]
    session.refresh_from_db()
    assert session.status == "escalated"


def test_a_question_in_german_gets_a_note_on_the_language_and_no_hand_over(demo_kb):
    session = SupportSessionFactory()
    reply = say(session, "Wo ist mein Paket? Ich warte seit einer Woche.")
    assert "English" in reply.content and reply.content.startswith("Entschuldigung")
    assert reply.metadata["decision_kind"] == "language" and not reply.requires_escalation
    # Pressing "Talk to a person" is an ordinary message that the policy hands over.
    handed = say(session, reply.metadata["suggestions"][0]["text"])
    assert handed.requires_escalation and handed.metadata["reasons"] == ["human_requested"]


def test_international_shipping_is_not_answered_with_domestic_times(demo_kb):
    session = SupportSessionFactory()
    reply = say(session, "Do you ship internationally?")
    assert [s["slug"] for s in reply.sources] == ["shipping-times"]
    assert "outside the EU" in reply.content
    assert "3 to 5 business days" not in reply.content  # the domestic standard delivery time


def test_the_same_answer_is_not_given_twice_in_a_row(demo_kb):
    session = SupportSessionFactory()
    first = say(session, "How long does a refund take?")
    again = say(session, "How long does a refund take?")
    assert first.sources and again.content != first.content
    assert again.metadata["reasons"] == ["repeated_answer"] and not again.requires_escalation
