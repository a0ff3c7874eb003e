"""Conversation memory: recall of earlier turns and follow-up detection."""

import pytest

from agents.memory import (
    Turn,
    conversation_recall,
    is_follow_up,
    previous_customer_question,
    unhelpful_streak,
)
from chat.services import message_create
from tests.factories import SupportSessionFactory


@pytest.mark.parametrize(
    "text",
    [
        "and how long does that take?",
        "What about express?",
        "how much is it?",
        "also, can I do that online?",
    ],
)
def test_follow_ups_are_recognised(text):
    assert is_follow_up(text)


@pytest.mark.parametrize(
    "text",
    [
        "How do I reset my password?",
        "Where is my order number 123?",
        "I would like to know the delivery times for orders going to Germany and Austria please",
    ],
)
def test_standalone_questions_are_not_follow_ups(text):
    assert not is_follow_up(text)


@pytest.mark.django_db
def test_recall_returns_visible_turns_before_the_message_oldest_first():
    session = SupportSessionFactory(handled_by="human")
    for role, text in [("customer", "q1"), ("agent", "a1"), ("customer", "q2")]:
        message_create(session_id=session.pk, role=role, content=text)
    message_create(session_id=session.pk, role="system", content="note", internal=True)
    turns = conversation_recall(session_id=session.pk, before_seq=4)
    assert [(t.role, t.content) for t in turns] == [
        ("customer", "q1"),
        ("agent", "a1"),
        ("customer", "q2"),
    ]


def test_previous_customer_question():
    history = [
        Turn("customer", "first"),
        Turn("assistant", "answer"),
        Turn("customer", "second"),
        Turn("assistant", "answer 2"),
    ]
    assert previous_customer_question(history) == "second"
    assert previous_customer_question([]) is None


def test_unhelpful_streak_counts_recent_unhelpful_turns():
    history = [
        Turn("assistant", "ok", {"reasons": []}),
        Turn("customer", "that didn't help"),
        Turn("assistant", "try this", {"unhelpful_feedback": True}),
    ]
    assert unhelpful_streak(history) == 1
    assert unhelpful_streak(history[:1]) == 0
