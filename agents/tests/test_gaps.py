"""Knowledge gaps: which non-answers count, how they group, and the two actions on a group."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agents.gaps import gap_questions, knowledge_gaps
from agents.knowledge import articles_search, index_rebuild
from agents.models import Article, ArticleExample, KnowledgeIndexSnapshot
from agents.signals import index_updates_muted
from chat.models import Message
from tests.factories import StaffFactory, SupportSessionFactory, UserFactory

pytestmark = pytest.mark.django_db


def small_kb() -> dict[str, Article]:
    articles = {}
    # Muted, then built by hand: no rebuild is left pending in the test's transaction.
    with index_updates_muted():
        _small_kb_rows(articles)
    index_rebuild()
    return articles


def _small_kb_rows(articles: dict[str, Article]) -> None:
    for slug, title, body, examples in [
        (
            "password",
            "Resetting your password",
            "Use the 'Forgot password' link on the sign-in page; we email a reset link.",
            ["How do I reset my password?", "I forgot my password"],
        ),
        (
            "refunds",
            "Refunds",
            "Refunds reach your card within 5 business days after we receive the return.",
            ["How long does a refund take?", "When do I get my money back?"],
        ),
        (
            "payment",
            "Payment methods",
            "We accept Visa, Mastercard and American Express.",
            ["Which cards do you accept?", "Can I pay by credit card?"],
        ),
    ]:
        article = Article.objects.create(slug=slug, title=title, body=body)
        ArticleExample.objects.bulk_create(
            ArticleExample(article=article, text=t) for t in examples
        )
        articles[slug] = article


def asked(question: str, *, reasons=("low_confidence",), escalate=True, decision=None) -> Message:
    """Store a customer question and the AI's reply to it (a hand-over by default)."""
    session = SupportSessionFactory()
    customer = Message.objects.create(session=session, seq=1, role="customer", content=question)
    metadata = {"reasons": list(reasons)}
    if decision:
        metadata["decision"] = decision
    Message.objects.create(
        session=session,
        seq=2,
        role="assistant",
        content="I'm passing your conversation to a member of our support team.",
        requires_escalation=escalate,
        in_reply_to=customer,
        metadata=metadata,
    )
    return customer


GIFT = [
    "Do you sell gift cards?",
    "Can I buy a gift card for my sister?",
    "Are gift vouchers available?",
]
PAYPAL = ["Can I pay with PayPal?", "Do you accept PayPal payments?"]


@pytest.fixture
def kb():
    return small_kb()


@pytest.fixture
def gaps(kb):
    for question in [GIFT[0], PAYPAL[0], GIFT[1], PAYPAL[1]]:
        asked(question)
    asked(GIFT[2], reasons=(), escalate=False, decision="decline")  # the bot declined: a gap
    asked("I want to talk to a human", reasons=("human_requested",))  # not a knowledge gap
    asked("How do I reset my password?", reasons=(), escalate=False)  # answered


def test_only_unanswered_questions_count_and_they_group_by_meaning(gaps):
    assert {q.text for q in gap_questions()} == {*GIFT, *PAYPAL}
    groups = knowledge_gaps()
    assert [sorted(g.examples) for g in groups] == [sorted(GIFT), sorted(PAYPAL)]
    assert [g.count for g in groups] == [3, 2]
    assert groups[1].suggestion.slug == "payment"  # the engine's nearest article, preselected


def test_the_window_bounds_what_is_read(gaps):
    # The last three non-answers: the request for a person (read, then left out) and two gaps.
    assert [q.text for q in gap_questions(limit=3)] == [GIFT[2], PAYPAL[1]]


@pytest.fixture
def staff_client(client):
    client.force_login(StaffFactory())
    return client


def test_gaps_page_lists_groups_with_counts_and_actions(gaps, staff_client):
    page = staff_client.get(reverse("console-gaps")).content.decode()
    assert page.index("Are gift vouchers available?") < page.index("Can I pay with PayPal?")
    assert "3 questions" in page and "2 questions" in page
    assert "I want to talk to a human" not in page
    assert page.count('action="/console/gaps/add-examples/"') == 2


def test_adding_a_group_to_an_article_teaches_the_engine(
    kb, gaps, staff_client, django_capture_on_commit_callbacks
):
    articles = kb
    snapshot_before = KnowledgeIndexSnapshot.objects.values_list("pk", flat=True).first()
    group = next(g for g in knowledge_gaps() if "Can I pay with PayPal?" in g.examples)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("console-gaps-add"),
            {"article": articles["payment"].pk, "message_ids": ",".join(group.message_ids)},
        )
    assert response.status_code == 302
    texts = set(articles["payment"].examples.values_list("text", flat=True))
    assert set(PAYPAL) <= texts
    # The group is gone from the gaps, and the rebuilt index answers it from the article.
    assert all("Can I pay with PayPal?" not in g.examples for g in knowledge_gaps())
    assert KnowledgeIndexSnapshot.objects.values_list("pk", flat=True).first() != snapshot_before
    assert articles_search("Can I pay with PayPal?")[0].slug == "payment"


def test_a_group_opens_a_new_unpublished_draft_prefilled_with_its_questions(gaps, staff_client):
    group = next(g for g in knowledge_gaps() if "Do you sell gift cards?" in g.examples)
    response = staff_client.post(
        reverse("console-gaps-draft"), {"message_ids": ",".join(group.message_ids)}
    )
    draft = Article.objects.get(is_published=False)
    assert response.url == reverse("admin:agents_article_change", args=[draft.pk])
    assert set(draft.examples.values_list("text", flat=True)) == set(GIFT)
    assert draft.title in GIFT
    # Its questions are examples now: no longer gaps.
    assert all("Do you sell gift cards?" not in g.examples for g in knowledge_gaps())
    # A draft for a title already taken gets a slug of its own.
    asked("Do you sell gift cards")
    other = next(g for g in knowledge_gaps() if "Do you sell gift cards" in g.examples)
    staff_client.post(reverse("console-gaps-draft"), {"message_ids": other.message_ids[0]})
    slugs = set(Article.objects.filter(is_published=False).values_list("slug", flat=True))
    assert slugs == {draft.slug, f"{draft.slug}-2"} or len(slugs) == 2


def test_bad_input_changes_nothing(kb, gaps, staff_client):
    articles = kb
    before = ArticleExample.objects.count()
    for data in [
        {"article": articles["payment"].pk, "message_ids": "not-a-uuid"},
        {"article": articles["payment"].pk, "message_ids": ""},
        {"article": 999_999, "message_ids": str(Message.objects.first().pk)},
        # An assistant message is not a customer question.
        {
            "article": articles["payment"].pk,
            "message_ids": str(Message.objects.filter(role="assistant").first().pk),
        },
    ]:
        response = staff_client.post(reverse("console-gaps-add"), data, follow=True)
        assert "Nothing changed" in response.content.decode()
    assert ArticleExample.objects.count() == before
    assert staff_client.get(reverse("console-gaps-add")).status_code == 405


def test_only_staff_see_or_change_gaps(gaps, client):
    assert client.get(reverse("console-gaps")).status_code == 302  # to the console login
    client.force_login(UserFactory())
    assert client.get(reverse("console-gaps")).status_code == 403
    customer_message = Message.objects.filter(role="customer").first()
    response = client.post(reverse("console-gaps-draft"), {"message_ids": str(customer_message.pk)})
    assert response.status_code == 403
    assert not Article.objects.filter(is_published=False).exists()
