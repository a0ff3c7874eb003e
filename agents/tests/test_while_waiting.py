"""AGENT_ANSWER_WHILE_WAITING: the AI answers simple questions in the human queue, labelled, and
never once a person has taken over or replied."""

from __future__ import annotations

import pytest

from agents.services import WHILE_WAITING_LABEL, reply_while_waiting_generate
from chat.models import Message, MessageRole
from chat.services import message_create, staff_reply_send
from sessions_app.services import session_escalate, session_take_over
from tests.factories import StaffFactory, SupportSessionFactory

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION = "How do I reset my password?"


@pytest.fixture
def waiting(db):
    session = SupportSessionFactory()
    session_escalate(session_id=session.pk, reason="human_requested")
    return session


@pytest.fixture
def sure_answer(monkeypatch):
    """A composer that always answers from an article: only the guards can stop it."""
    from agents.pipeline import AgentReply

    def compose(**kwargs):
        return AgentReply(
            content="Use the reset link.",
            sources=[{"article_id": 1, "title": "Passwords", "score": 0.9, "slug": "passwords"}],
            confidence=0.9,
            escalate=False,
            reasons=[],
            query=kwargs["question"],
            provider="test",
        )

    monkeypatch.setattr("agents.services.reply_compose", compose)


def _ask(session, text=QUESTION):
    return message_create(session_id=session.pk, role=MessageRole.CUSTOMER, content=text).message


def _assistant(session):
    return list(Message.objects.filter(session=session, role=MessageRole.ASSISTANT))


def test_the_fake_answers_when_allowed(waiting, settings, sure_answer):
    """The guards' tests below would pass vacuously if the fake never answered."""
    settings.AGENT_ANSWER_WHILE_WAITING = True
    _ask(waiting)
    assert [m.content for m in _assistant(waiting)] == [
        f"{WHILE_WAITING_LABEL}:\n\nUse the reset link."
    ]


def test_off_by_default_nothing_answers_in_the_queue(waiting, sure_answer):
    _ask(waiting)
    assert _assistant(waiting) == []


def test_on_a_simple_question_gets_a_labelled_answer_a_hard_one_none(demo_kb, waiting, settings):
    settings.AGENT_ANSWER_WHILE_WAITING = True
    # Not a simple article answer: left to the person (small talk is none either).
    _ask(waiting, "My parcel arrived wet and the cat ate half of the invoice, what now?")
    _ask(waiting, "thanks")
    assert _assistant(waiting) == []
    question = _ask(waiting)
    (answer,) = _assistant(waiting)
    assert answer.content.startswith(f"{WHILE_WAITING_LABEL}:\n\n")
    assert answer.sources and answer.in_reply_to_id == question.pk
    assert answer.metadata["while_waiting"] is True
    waiting.refresh_from_db()
    assert waiting.status == "escalated"  # still in the queue: a person is still coming


def test_never_after_a_take_over(waiting, settings, sure_answer):
    settings.AGENT_ANSWER_WHILE_WAITING = True
    session_take_over(session_id=waiting.pk, user=StaffFactory())
    _ask(waiting)
    assert _assistant(waiting) == []


def test_never_after_a_person_replied_even_without_taking_over(waiting, settings, sure_answer):
    settings.AGENT_ANSWER_WHILE_WAITING = True
    staff_reply_send(session_id=waiting.pk, user=None, content="We're on it.")  # an API key
    _ask(waiting)
    assert _assistant(waiting) == []


def test_the_re_check_under_the_lock_drops_an_answer_a_take_over_overtook(
    demo_kb, waiting, settings, monkeypatch
):
    """The person takes over while the answer is composed: it is dropped, not stored."""
    settings.AGENT_ANSWER_WHILE_WAITING = False  # store the question without answering it
    question = _ask(waiting)
    settings.AGENT_ANSWER_WHILE_WAITING = True
    import agents.services as services

    real_compose = services.reply_compose

    def compose_then_take_over(**kwargs):
        reply = real_compose(**kwargs)
        session_take_over(session_id=waiting.pk, user=StaffFactory())
        return reply

    monkeypatch.setattr(services, "reply_compose", compose_then_take_over)
    assert reply_while_waiting_generate(message_id=question.pk) is None
    assert _assistant(waiting) == []
