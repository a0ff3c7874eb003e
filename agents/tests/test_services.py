"""Agent services: the reply re-checked at store time, and the unanswered sweep."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from agents import services
from agents.tasks import agent_reply
from chat.models import Message
from chat.services import message_create
from sessions_app.models import SupportSession
from sessions_app.services import session_close, session_release, session_take_over
from tests.factories import StaffFactory, SupportSessionFactory

from .chat_completions_server import ChatCompletionsServer, Reply

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION = "How long does a refund take?"


@pytest.fixture(autouse=True)
def _tfidf_only(settings):
    # Runs before demo_kb (autouse first): a TF-IDF index builds in a second, not ten.
    settings.AGENT_ENCODER = "none"


def _stored_customer_message(session, *, age_seconds: float, content: str = QUESTION, **extra):
    """A customer message whose reply task was lost (stored without enqueueing anything)."""
    seq = session.last_seq + 1
    SupportSession.objects.filter(pk=session.pk).update(last_seq=seq)
    session.last_seq = seq
    message = Message.objects.create(
        session=session, seq=seq, role="customer", content=content, **extra
    )
    Message.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - timedelta(seconds=age_seconds)
    )
    return message


# --- finding 6: the reply is re-checked under the session lock when it is stored -------------


@pytest.fixture
def held_llm(settings, demo_kb):
    """The openai provider against a local endpoint whose first answer waits for a gate."""
    gate = threading.Event()
    with ChatCompletionsServer() as server:
        server.script(Reply(gate=gate, text="Refunds take 5 business days [1]."))
        settings.AGENT_PROVIDER = "openai"
        settings.OPENAI_BASE_URL = server.url
        settings.OPENAI_API_KEY = "sk-test"
        settings.OPENAI_TIMEOUT = 20.0
        yield server, gate
        gate.set()


def _reply_in_thread(message_id) -> tuple[threading.Thread, list]:
    outcome: list = []

    def run():
        try:
            outcome.append(services.reply_generate(message_id=message_id))
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.mark.parametrize("change", ["take_over", "close"])
def test_a_reply_composed_before_a_take_over_or_close_is_dropped(held_llm, change):
    server, gate = held_llm
    session = SupportSessionFactory()
    question = _stored_customer_message(session, age_seconds=0)
    thread, outcome = _reply_in_thread(question.pk)
    try:
        assert server.arrived.wait(10), "the provider was never asked"
        if change == "take_over":
            session_take_over(session_id=session.pk, user=StaffFactory())
        else:
            session_close(session_id=session.pk)
    finally:
        gate.set()
        thread.join(20)
    assert outcome == [None]
    assert not Message.objects.filter(session=session, role="assistant").exists()
    session.refresh_from_db()
    # No escalation made by the dropped reply either: the state is the person's.
    assert session.status == ("escalated" if change == "take_over" else "closed")


def test_a_failure_after_a_take_over_adds_no_apology(demo_kb):
    session = SupportSessionFactory()
    question = _stored_customer_message(session, age_seconds=0)
    session_take_over(session_id=session.pk, user=StaffFactory())
    assert services.reply_fail(message_id=question.pk, error="timeout") is None
    assert not Message.objects.filter(in_reply_to=question).exists()


def test_a_duplicate_enqueue_stores_one_reply(demo_kb):
    session = SupportSessionFactory()
    question = _stored_customer_message(session, age_seconds=0)
    agent_reply.delay(str(question.pk))
    agent_reply.delay(str(question.pk))
    assert Message.objects.filter(in_reply_to=question).count() == 1
    assert Message.objects.filter(session=session).count() == 2


# --- findings 3 and 4: the unanswered sweep ---------------------------------------------------


def test_the_sweep_requeues_a_lost_reply_once(demo_kb, settings):
    settings.AGENT_UNANSWERED_AFTER = 60
    session = SupportSessionFactory()
    lost = _stored_customer_message(session, age_seconds=120)
    recent = _stored_customer_message(SupportSessionFactory(), age_seconds=5)

    result = services.unanswered_sweep()

    assert (result.requeued, result.failed) == (1, 0)
    reply = Message.objects.get(in_reply_to=lost)  # eager here: the re-enqueued task ran
    assert reply.role == "assistant"
    assert not Message.objects.filter(in_reply_to=recent).exists()
    lost.refresh_from_db()
    assert lost.metadata["sweep"]["requeues"] == 1
    assert services.unanswered_sweep().requeued == 0  # answered now


def test_the_sweep_gives_a_recent_requeue_time_then_hands_over(demo_kb, settings):
    settings.AGENT_UNANSWERED_AFTER = 60
    settings.AGENT_SWEEP_MAX_REQUEUES = 1
    session = SupportSessionFactory()
    just_requeued = timezone.now() - timedelta(seconds=10)
    message = _stored_customer_message(
        session,
        age_seconds=300,
        metadata={"sweep": {"requeues": 1, "at": just_requeued.isoformat()}},
    )
    assert services.unanswered_sweep() == services.SweepResult(requeued=0, failed=0)

    later = timezone.now() + timedelta(seconds=120)
    assert services.unanswered_sweep(now=later) == services.SweepResult(requeued=0, failed=1)
    fallback = Message.objects.get(in_reply_to=message)
    assert fallback.role == "system" and fallback.requires_escalation
    assert SupportSession.objects.get(pk=session.pk).status == "escalated"


def test_the_sweep_leaves_what_is_not_the_ais_to_answer(demo_kb, settings):
    settings.AGENT_UNANSWERED_AFTER = 60
    agent = StaffFactory()
    # A person answered it, then handed the session back to the AI.
    handed_back = SupportSessionFactory()
    _stored_customer_message(handed_back, age_seconds=600)
    session_take_over(session_id=handed_back.pk, user=agent)
    session_release(session_id=handed_back.pk)
    # A person handles it now.
    taken = SupportSessionFactory()
    _stored_customer_message(taken, age_seconds=600)
    session_take_over(session_id=taken.pk, user=agent)
    # Closed.
    closed = SupportSessionFactory()
    _stored_customer_message(closed, age_seconds=600)
    session_close(session_id=closed.pk)
    # Older than the sweep looks back.
    ancient = SupportSessionFactory()
    _stored_customer_message(ancient, age_seconds=3 * 86400)
    SupportSession.objects.filter(pk=ancient.pk).update(
        last_activity_at=timezone.now() - timedelta(days=3)
    )

    assert (
        services.unanswered_messages(
            older_than=timezone.now() - timedelta(seconds=60), now=timezone.now()
        )
        == []
    )


def test_an_internal_note_does_not_hide_an_unanswered_message(demo_kb, settings):
    session = SupportSessionFactory()
    message = _stored_customer_message(session, age_seconds=600)
    message_create(session_id=session.pk, role="system", content="watching", internal=True)
    found = services.unanswered_messages(
        older_than=timezone.now() - timedelta(seconds=60), now=timezone.now()
    )
    assert found == [message]


def test_the_sweep_finds_unanswered_messages_in_one_query(demo_kb, django_assert_num_queries):
    _stored_customer_message(SupportSessionFactory(), age_seconds=600)
    now = timezone.now()
    with django_assert_num_queries(1):
        found = services.unanswered_messages(older_than=now - timedelta(seconds=60), now=now)
    assert len(found) == 1


# --- metrics ---------------------------------------------------------------------------------


def _sample(name: str, **labels) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_messages_handovers_reply_latency_and_sweeps_are_counted(demo_kb, settings):
    settings.AGENT_UNANSWERED_AFTER = 60
    settings.AGENT_SWEEP_MAX_REQUEUES = 0
    before = {
        "customer": _sample("supportdesk_messages_total", role="customer"),
        "assistant": _sample("supportdesk_messages_total", role="assistant"),
        "handover": _sample("supportdesk_handovers_total", reason="human_requested"),
        "latency": _sample("supportdesk_agent_reply_seconds_count"),
        "failed": _sample("supportdesk_unanswered_swept_total", action="failed"),
    }
    session = SupportSessionFactory()
    message_create(session_id=session.pk, role="customer", content="I want a real person")
    _stored_customer_message(SupportSessionFactory(), age_seconds=600)
    services.unanswered_sweep()

    assert _sample("supportdesk_messages_total", role="customer") == before["customer"] + 1
    assert _sample("supportdesk_messages_total", role="assistant") == before["assistant"] + 1
    assert (
        _sample("supportdesk_handovers_total", reason="human_requested") == before["handover"] + 1
    )
    assert _sample("supportdesk_agent_reply_seconds_count") == before["latency"] + 1
    assert _sample("supportdesk_unanswered_swept_total", action="failed") == before["failed"] + 1
