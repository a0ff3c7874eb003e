"""The evaluation command, on a fixed-seed sample of the Banking77 questions, with a floor."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from agents.models import Article

# Full dev.csv scores about 0.85 overall (docs/agent.md); a 40-question sample wanders by a
# few points, so the floor leaves room for that and still catches a real regression.
OVERALL_FLOOR = 0.65


# Builds the whole Banking77 index (about 110 s on an idle 2-core machine): the suite-wide
# 180 s budget is too tight for it on a busy one.
@pytest.mark.timeout(480)
@pytest.mark.django_db(transaction=True)
def test_evaluate_agent_sample_stays_above_its_floor_and_keeps_nothing(demo_kb, banking77):
    EVAL = banking77
    before = set(Article.objects.values_list("slug", flat=True))
    out = StringIO()
    call_command(
        "evaluate_agent",
        "--articles",
        str(EVAL / "articles.jsonl"),
        "--examples",
        str(EVAL / "kb_examples.csv"),
        "--questions",
        str(EVAL / "dev.csv"),
        "--sample",
        "40",
        "--seed",
        "7",
        "--json",
        stdout=out,
    )
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["n"] == 40
    assert summary["overall_accuracy"] >= OVERALL_FLOOR, summary
    assert {
        "in_scope_accuracy",
        "oos_recall",
        "oos_to_human_share",
        "mean_ms_per_question",
    } <= set(summary)
    # The run is rolled back: the demo knowledge base is untouched.
    assert set(Article.objects.values_list("slug", flat=True)) == before


@pytest.mark.django_db(transaction=True)
def test_an_article_stored_under_a_cleaned_slug_is_still_scored_by_its_file_slug(tmp_path):
    # Banking77 has the intent "reverted_card_payment?", which is not a valid slug.
    articles = tmp_path / "articles.jsonl"
    articles.write_text(
        "\n".join(
            json.dumps({"slug": slug, "title": title, "body": body})
            for slug, title, body in [
                (
                    "reverted_card_payment?",
                    "Reverted card payments",
                    "A reverted payment returns to your balance within 5 days.",
                ),
                ("card_arrival", "When will my card arrive?", "Cards arrive in 3 to 5 days."),
                ("change_pin", "Changing your PIN", "Change your PIN at any ATM."),
            ]
        )
    )
    examples = tmp_path / "examples.csv"
    examples.write_text(
        "text,slug\n"
        "Why was my card payment reverted?,reverted_card_payment?\n"
        "My payment came back to my account,reverted_card_payment?\n"
        "Where is my new card?,card_arrival\n"
        "My card has not arrived yet,card_arrival\n"
        "How do I change my PIN?,change_pin\n"
        "I want a new PIN,change_pin\n"
    )
    questions = tmp_path / "questions.csv"
    questions.write_text(
        "text,expected\nWhy was my card payment reverted?,reverted_card_payment?\n"
    )
    out = StringIO()
    call_command(
        "evaluate_agent",
        "--articles",
        str(articles),
        "--examples",
        str(examples),
        "--questions",
        str(questions),
        "--json",
        stdout=out,
    )
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["in_scope_accuracy"] == 1.0, out.getvalue()


# The demo shop's 64 customer questions (49 covered by an article, 15 not, six of them the
# near misses of issue #12): 0.953 overall, 0.939 in scope, none of the 15 answered from an
# article and none of them sent to the human queue (docs/agent.md). Floors a few questions
# below, for the questions `make run` visitors ask first.
DEMO_FLOORS = {"overall_accuracy": 0.9, "in_scope_accuracy": 0.85, "oos_recall": 0.9}
# Declined or clarified, not queued for a person: before issue #12 this was 1.0.
DEMO_OOS_TO_HUMAN_CEILING = 0.2


@pytest.mark.django_db(transaction=True)
def test_the_demo_shop_answers_its_customer_questions_above_the_floors():
    from agents.management.commands.seed_demo import DEMO_DIR

    out = StringIO()
    call_command(
        "evaluate_agent",
        "--articles",
        str(DEMO_DIR / "articles.jsonl"),
        "--examples",
        str(DEMO_DIR / "examples.csv"),
        "--questions",
        str(DEMO_DIR / "questions.csv"),
        "--json",
        stdout=out,
    )
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["n"] == 64
    for metric, floor in DEMO_FLOORS.items():
        assert summary[metric] >= floor, summary
    assert summary["oos_to_human_share"] <= DEMO_OOS_TO_HUMAN_CEILING, summary
