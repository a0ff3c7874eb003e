"""The per-message decision policy (agents/decision.py): every branch, without a database."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from agents.decision import (
    CLARIFY_UNHELPFUL_TEXT,
    DECLINE_TEXTS,
    TALK_TO_PERSON,
    Action,
    message_triage,
    repeat_avoid,
    reply_decide,
)
from agents.language import foreign_language
from agents.policy import wants_human
from agents.smalltalk import REPLIES, REPLIES_AGAIN, is_gibberish, is_off_topic

THRESHOLD = 0.2375


@dataclass(frozen=True)
class Hit:
    article_id: int
    slug: str
    title: str
    score: float


def hits(*scores: float) -> list[Hit]:
    names = ["track-order", "change-or-cancel-order", "returns-policy", "refund-timing"]
    return [
        Hit(article_id=i + 1, slug=names[i], title=names[i].replace("-", " ").title(), score=s)
        for i, s in enumerate(scores)
    ]


def decide(text, candidates, failed_tries=0, previous_reply=None):
    return reply_decide(
        text=text,
        candidates=candidates,
        threshold=THRESHOLD,
        failed_tries=failed_tries,
        previous_reply=previous_reply,
    )


def test_a_confident_match_is_answered():
    decision = decide("where is my parcel?", hits(0.9, 0.01))
    assert decision.action == Action.ANSWER and not decision.escalate
    assert decision.reasons == [] and decision.suggestions == []


def test_unsure_between_topics_offers_the_closest_articles_and_a_person():
    decision = decide("I ordered the wrong size", hits(0.16, 0.04, 0.001))
    assert decision.action == Action.CLARIFY and decision.failed_try and not decision.escalate
    labels = [s.label for s in decision.suggestions]
    # The third candidate is below the floor (0.125 × threshold): noise, not a choice.
    assert labels == ["Track Order", "Change Or Cancel Order", "Talk to a person"]
    first = decision.suggestions[0].as_dict()
    assert first == {
        "label": "Track Order",
        "text": "Track Order",
        "article_id": 1,
        "url": "/help/track-order/",
        "action": "message",
    }
    assert decision.suggestions[-1].action == "handover"
    assert "low_confidence" in decision.reasons


def test_no_plausible_article_asks_one_clarifying_question():
    decision = decide("I need something", hits(0.01, 0.005))
    assert decision.action == Action.CLARIFY and decision.kind == "question"
    assert decision.content.count("?") == 1
    assert decision.suggestions == [TALK_TO_PERSON]


def test_an_order_number_without_a_question_gets_a_question_about_that_order():
    decision = decide("Hi, I ordered shoes last week (order 4411)", hits(0.07, 0.031, 0.013))
    assert decision.action == Action.CLARIFY and decision.kind == "order"
    assert "order 4411" in decision.content
    assert [s.label for s in decision.suggestions][-1] == "Talk to a person"


def test_keyboard_mashing_is_not_understood_and_said_so():
    decision = decide("asdfgh", hits(0.014))
    assert decision.action == Action.CLARIFY and decision.kind == "unclear"
    assert "didn't catch" in decision.content


def test_the_second_failed_try_hands_over():
    decision = decide("qwerty zxcv", hits(0.011), failed_tries=1)
    assert decision.action == Action.HANDOVER and decision.escalate
    assert "repeated_unclear" in decision.reasons


def test_that_did_not_help_twice_hands_over_even_when_confident():
    decision = decide("that didn't help, where is my parcel", hits(0.9), failed_tries=1)
    assert decision.action == Action.HANDOVER and "repeated_unhelpful" in decision.reasons


def test_that_did_not_help_once_gets_an_apology_and_a_question():
    decision = decide("that didn't help", hits(0.02))
    assert decision.action == Action.CLARIFY and decision.content == CLARIFY_UNHELPFUL_TEXT


@pytest.mark.parametrize(
    "text",
    [
        "What's the weather like in Paris tomorrow?",
        "tell me a joke",
        "who won the football last night",
        "what's the capital of Australia?",
        "how do I cook rice?",
        "how are you?",
    ],
)
def test_clearly_off_topic_is_declined_with_the_offer_of_a_person(text):
    assert is_off_topic(text)
    decision = decide(text, hits(0.018, 0.014))
    assert decision.action == Action.DECLINE and not decision.escalate
    assert not decision.failed_try  # small talk does not count towards the hand-over
    assert decision.suggestions == [TALK_TO_PERSON]
    assert wants_human(TALK_TO_PERSON.text)  # pressing it hands over through the policy


def test_off_topic_after_a_clarification_is_still_declined_not_handed_over():
    decision = decide("tell me a joke", hits(0.011), failed_tries=1)
    assert decision.action == Action.DECLINE


def test_a_second_decline_uses_other_words():
    decision = decide("tell me a joke", hits(0.011), previous_reply=DECLINE_TEXTS[0])
    assert decision.action == Action.DECLINE and decision.content == DECLINE_TEXTS[1]


def test_off_topic_words_do_not_block_a_confident_answer():
    assert decide("will the weather delay my parcel?", hits(0.8)).action == Action.ANSWER


def test_asking_for_a_person_or_being_angry_hands_over_at_once():
    asked = decide("I want to talk to a person", hits(0.9))
    assert asked.action == Action.HANDOVER and asked.reasons[0] == "human_requested"
    angry = decide("This is ridiculous, where is my parcel", hits(0.9))
    assert angry.action == Action.HANDOVER and "customer_upset" in angry.reasons


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Wo ist mein Paket?", "de"),
        ("Bonjour, où est ma commande ?", "fr"),
        ("¿Dónde está mi pedido?", "es"),
        ("Dov'è il mio ordine?", "it"),
        ("Waar is mijn pakket?", "nl"),
        ("Где мой заказ?", "other"),
    ],
)
def test_a_language_the_knowledge_base_does_not_serve_gets_a_polite_note(text, code):
    assert foreign_language(text) == code
    decision = message_triage(text=text)
    assert decision.action == Action.DECLINE and decision.kind == "language"
    assert "English" in decision.content and decision.suggestions == [TALK_TO_PERSON]
    assert not decision.escalate


@pytest.mark.parametrize(
    "text",
    [
        "is it free?",
        "card declined",
        "Can I pay with PayPal?",
        "I want a refund por favor",
        "Do you ship to Deutschland?",
        "Why was my top-up reverted?",
    ],
)
def test_english_is_never_taken_for_another_language(text):
    assert foreign_language(text) is None
    assert message_triage(text=text) is None


def test_the_language_check_can_be_turned_off():
    assert message_triage(text="Wo ist mein Paket?", check_language=False) is None


@pytest.mark.parametrize("text", ["Are you still there?", "hello?", "anyone there?", "still there"])
def test_are_you_still_there_gets_a_short_sensible_reply(text):
    decision = message_triage(text=text, previous_reply="Refunds take 5 to 10 days.")
    assert decision.action == Action.SMALLTALK and decision.kind == "presence"
    assert decision.content.startswith("Yes, I'm here")


def test_small_talk_is_not_said_twice_in_the_same_words():
    first = message_triage(text="hello?")
    second = message_triage(text="hello?", previous_reply=first.content)
    assert first.content == REPLIES["presence"] and second.content == REPLIES_AGAIN["presence"]


def test_an_answer_repeating_the_previous_message_becomes_a_question():
    answer = decide("how long do refunds take?", hits(0.9))
    same = "Refunds take 5 to 10 days."
    repeated = repeat_avoid(decision=answer, text="and?", content=same, previous_reply=same)
    assert repeated.action == Action.CLARIFY and repeated.reasons == ["repeated_answer"]
    fresh = repeat_avoid(decision=answer, text="x", content="Other words.", previous_reply=same)
    assert fresh is answer


@pytest.mark.parametrize(
    ("text", "mashed"),
    [
        ("asdfgh", True),
        ("qwerty zxcv", True),
        ("!!!", True),
        ("order 4411", False),
        ("my order", False),
        ("help", False),
    ],
)
def test_gibberish(text, mashed):
    assert is_gibberish(text) is mashed
