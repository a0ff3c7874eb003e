"""The agent pipeline and reply task on the demo shop's knowledge base."""

from __future__ import annotations

import pytest

from agents import services
from agents.memory import Turn
from agents.pipeline import reply_compose
from chat.models import Message
from chat.services import message_create
from sessions_app.models import SupportSession
from tests.factories import SupportSessionFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("How do I reset my password?", "Resetting your password"),
        ("I forgot my login password", "Resetting your password"),
        ("Where is my parcel? I want to track it", "Tracking your order"),
        ("How long does a refund take?", "When will I get my refund?"),
        ("Can I pay with PayPal?", "Payment methods we accept"),
        ("I want to return a jacket", "Returning an item"),
        ("do you ship to Norway", "Shipping options and delivery times"),
    ],
)
def test_demo_questions_are_answered_from_the_right_article(demo_kb, question, title):
    reply = reply_compose(question=question, history=[])
    assert not reply.escalate, reply.reasons
    assert [s["title"] for s in reply.sources] == [title]
    assert 0 < reply.confidence <= 1
    assert reply.content


def test_off_topic_question_is_declined_not_handed_over(demo_kb):
    reply = reply_compose(question="What's the weather like in Paris tomorrow?", history=[])
    assert not reply.escalate and reply.reasons == ["off_topic"]
    assert reply.sources == [] and reply.metadata["decision"] == "decline"
    assert [s["action"] for s in reply.suggestions] == ["handover"]


def test_follow_up_uses_the_previous_question(demo_kb):
    alone = reply_compose(question="what about express?", history=[])
    assert alone.metadata["decision"] == "clarify"  # too vague on its own
    history = [
        Turn("customer", "How long does delivery take?"),
        Turn("assistant", "Standard delivery takes 3 to 5 business days…"),
    ]
    reply = reply_compose(question="what about express?", history=history)
    assert reply.metadata["used_memory"] and not reply.escalate
    assert [s["title"] for s in reply.sources] == ["Shipping options and delivery times"]
    assert "Express" in reply.content


def test_asking_for_a_person_escalates_with_the_reason(demo_kb):
    reply = reply_compose(question="Can I talk to a human please?", history=[])
    assert reply.escalate and reply.reasons[0] == "human_requested"


def test_customer_message_gets_one_reply_and_escalation_flows_to_the_session(demo_kb):
    session = SupportSessionFactory()
    question = message_create(
        session_id=session.pk, role="customer", content="I want to speak to a real person"
    ).message
    reply = Message.objects.get(in_reply_to=question)
    assert reply.role == "assistant" and reply.requires_escalation
    assert reply.metadata["reasons"][0] == "human_requested"
    assert SupportSession.objects.get(pk=session.pk).status == "escalated"
    # Running the task again (a retried delivery) does not answer twice.
    assert services.reply_generate(message_id=question.pk).pk == reply.pk
    assert Message.objects.filter(in_reply_to=question).count() == 1


def test_agent_does_not_answer_once_a_human_handles_the_session(demo_kb):
    session = SupportSessionFactory(handled_by="human", status="escalated")
    question = message_create(
        session_id=session.pk, role="customer", content="How do I reset my password?"
    ).message
    assert not Message.objects.filter(in_reply_to=question).exists()


def test_failing_agent_retries_then_apologises_and_escalates(demo_kb, monkeypatch):
    calls = []

    def broken(**kwargs):
        calls.append(1)
        raise ConnectionError("LLM endpoint down")

    monkeypatch.setattr("agents.services.reply_compose", broken)
    session = SupportSessionFactory()
    question = message_create(
        session_id=session.pk, role="customer", content="Where is my order?"
    ).message
    fallback = Message.objects.get(in_reply_to=question)
    assert len(calls) == 4  # the first try and three retries
    assert fallback.role == "system" and fallback.requires_escalation
    assert "support team" in fallback.content
    assert SupportSession.objects.get(pk=session.pk).status == "escalated"
