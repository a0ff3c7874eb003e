"""Escalation policy: requests for a person, anger, repeated unhelpful turns, low confidence."""

import pytest

from agents.policy import escalation_decide, is_unhelpful_feedback, is_upset, wants_human

HUMAN_REQUESTS = [
    "Can I talk to a human?",
    "I want to speak to a real person",
    "agent",
    "Human please",
    "Representative!",
    "Connect me with customer service",
    "put me through to someone who can help",
    "Let me speak to your manager",
    "is there a live agent available?",
    "I need to talk to somebody",
    "Are you a bot?",
    "transfer me to an operator",
    "I'd like to chat with a support team member",
    "get me a person now",
    "Can I speak with real people?",
]
NOT_HUMAN_REQUESTS = [
    "How do I reset my password?",
    "Where is my order?",
    "My travel agent booked this for me",
    "Can I change the delivery person's instructions?",
    "What is the human resources email?",
    "I would not like to waste any more of my time on these people",
]


@pytest.mark.parametrize("text", HUMAN_REQUESTS)
def test_requests_for_a_person_are_recognised(text):
    assert wants_human(text)


@pytest.mark.parametrize("text", NOT_HUMAN_REQUESTS)
def test_ordinary_questions_are_not_requests_for_a_person(text):
    assert not wants_human(text)


@pytest.mark.parametrize(
    "text",
    [
        "This is ridiculous, where is my refund",
        "I want to file a complaint",
        "worst service ever",
        "I'm so angry right now",
        "WHERE IS MY PARCEL!!!",
    ],
)
def test_upset_customers_are_recognised(text):
    assert is_upset(text)


@pytest.mark.parametrize("text", ["Thanks, that helps!", "How long does shipping take?"])
def test_calm_messages_are_not_upset(text):
    assert not is_upset(text)


@pytest.mark.parametrize(
    "text",
    ["that didn't help", "This doesn't answer my question", "not what I asked", "wrong answer"],
)
def test_unhelpful_feedback_is_recognised(text):
    assert is_unhelpful_feedback(text)


def test_confident_answer_is_not_escalated():
    decision = escalation_decide(
        text="Where is my order?", confidence=0.9, threshold=0.5, has_answer=True
    )
    assert not decision.escalate and decision.reasons == []


def test_low_confidence_escalates():
    decision = escalation_decide(
        text="Tell me a joke", confidence=0.2, threshold=0.5, has_answer=True
    )
    assert decision.escalate and decision.reasons == ["low_confidence"]


def test_no_article_escalates():
    decision = escalation_decide(text="hm", confidence=0.0, threshold=0.5, has_answer=False)
    assert decision.reasons == ["no_matching_article"]


def test_second_unhelpful_turn_escalates_even_when_confident():
    first = escalation_decide(
        text="that didn't help",
        confidence=0.9,
        threshold=0.5,
        has_answer=True,
        prior_unhelpful_turns=0,
    )
    second = escalation_decide(
        text="that didn't help",
        confidence=0.9,
        threshold=0.5,
        has_answer=True,
        prior_unhelpful_turns=1,
    )
    assert not first.escalate
    assert second.escalate and "repeated_unhelpful" in second.reasons


def test_every_applicable_reason_is_recorded():
    decision = escalation_decide(
        text="This is useless, get me a human", confidence=0.1, threshold=0.5, has_answer=True
    )
    assert decision.reasons == ["human_requested", "customer_upset", "low_confidence"]
