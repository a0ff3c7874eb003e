"""Small talk gets a friendly answer instead of a hand-over."""

import pytest

from agents.pipeline import reply_compose
from agents.smalltalk import smalltalk_kind


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("hi", "greeting"),
        ("Hello there!", "greeting"),
        ("good morning", "greeting"),
        ("thanks!", "thanks"),
        ("Thank you so much", "thanks"),
        ("ok thanks", "thanks"),
        ("bye", "goodbye"),
        ("Have a nice day!", "goodbye"),
    ],
)
def test_small_talk_is_recognised(text, kind):
    assert smalltalk_kind(text) == kind


@pytest.mark.parametrize(
    "text",
    [
        "hi, where is my order?",
        "thanks but my parcel never arrived",
        "hello I want a refund",
        "This is the thanks I get?",
    ],
)
def test_questions_with_a_greeting_are_not_small_talk(text):
    assert smalltalk_kind(text) is None


def test_small_talk_is_answered_without_a_hand_over():
    reply = reply_compose(question="hi", history=[])
    assert not reply.escalate and reply.sources == [] and "help" in reply.content
    assert reply.metadata["smalltalk"] == "greeting"
