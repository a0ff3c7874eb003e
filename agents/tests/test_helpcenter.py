"""The public help center: list, search and article pages, drafts hidden, pages indexable."""

from __future__ import annotations

import re

import pytest

from agents.models import Article
from agents.pipeline import reply_compose
from agents.signals import index_updates_muted

pytestmark = pytest.mark.django_db


@pytest.fixture
def kb(settings, db):
    """The demo shop's articles with a TF-IDF index: the same retrieval, built in a second
    (the MiniLM build takes minutes on a busy 2-core machine; the engine's own tests cover it)."""
    from agents.kb_io import kb_import
    from agents.management.commands.seed_demo import DEMO_DIR

    settings.AGENT_ENCODER = "none"
    kb_import(articles_file=DEMO_DIR / "articles.jsonl", examples_files=[DEMO_DIR / "examples.csv"])


def _article(slug: str, *, published: bool = True, tags=None, body: str = "Body.") -> Article:
    with index_updates_muted():
        return Article.objects.create(
            slug=slug,
            title=slug.replace("-", " ").title(),
            body=body,
            tags=tags or [],
            is_published=published,
        )


def test_index_lists_published_articles_grouped_by_topic_without_login(client):
    _article("refund-timing", tags=["refunds", "payments"])
    _article("payment-methods", tags=["payments"])
    _article("untagged-thing")
    _article("secret-draft", published=False, tags=["refunds"])

    response = client.get("/help/")

    assert response.status_code == 200
    html = response.content.decode()
    # Topics (first tag) in name order, untagged last; drafts nowhere.
    topics = re.findall(r'<h2 id="topic-\d+">([^<]+)</h2>', html)
    assert topics == ["Payments", "Refunds", "Other"]
    assert 'href="/help/refund-timing/"' in html
    assert 'href="/help/payment-methods/"' in html
    assert "secret-draft" not in html and "Secret Draft" not in html
    assert response["Cache-Control"] == "public, max-age=60"


def test_pages_are_accessible_and_indexable(client):
    _article("refund-timing", body="Refunds reach your account within **five** working days.")

    html = client.get("/help/refund-timing/").content.decode()

    assert '<html lang="en">' in html
    assert '<a class="skip-link" href="#content">' in html
    assert '<main id="content"' in html and "<header" in html and "<footer" in html
    assert 'role="search"' in html and '<label for="help-q"' in html
    assert re.search(r"<h1[^>]*>Refund Timing</h1>", html)
    assert "<title>Refund Timing — Help center</title>" in html
    assert '<link rel="canonical" href="http://testserver/help/refund-timing/">' in html
    assert (
        '<meta name="description" content="Refunds reach your account within **five** '
        'working days.">' in html
    )
    assert '<meta name="robots" content="index, follow">' in html
    # The body goes through the one sanitising renderer.
    assert "<strong>five</strong>" in html


def test_article_body_cannot_inject_markup(client):
    _article("hostile", body='<script>alert(1)</script> <img src=x onerror="alert(2)">')

    html = client.get("/help/hostile/").content.decode()

    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_drafts_and_unknown_slugs_are_404(client):
    _article("draft", published=False)

    for path in ("/help/draft/", "/help/no-such-article/"):
        response = client.get(path)
        assert response.status_code == 404
        html = response.content.decode()
        assert "Article not found" in html and 'role="search"' in html
        assert '<meta name="robots" content="noindex, follow">' in html
        assert "Draft" not in html


def test_index_and_article_pages_take_one_query(client, django_assert_num_queries):
    for n in range(30):
        _article(f"article-{n}", tags=[f"topic{n % 4}"])
    with django_assert_num_queries(1):
        assert client.get("/help/").status_code == 200
    with django_assert_num_queries(1):
        assert client.get("/help/article-7/").status_code == 200


def test_only_get_and_head_are_served(client):
    assert client.post("/help/").status_code == 405
    assert client.head("/help/").status_code == 200


def test_search_ranks_with_the_agents_retrieval(client, kb):
    response = client.get("/help/search/", {"q": "I forgot my login password"})

    assert response.status_code == 200
    html = response.content.decode()
    titles = re.findall(r'<h2 class="help-result-title"><a href="[^"]+">([^<]+)</a>', html)
    assert titles[0] == "Resetting your password"
    assert 1 <= len(titles) <= 10
    assert '<meta name="robots" content="noindex, follow">' in html


def test_search_adds_text_matches_and_shows_nothing_for_gibberish(client, kb):
    html = client.get("/help/search/", {"q": "delivery"}).content.decode()
    titles = re.findall(r'<h2 class="help-result-title"><a href="[^"]+">([^<]+)</a>', html)
    # The retrieval's pick first, then articles that mention the word.
    assert titles[0] == "Shipping options and delivery times"
    assert set(titles) == {
        "Shipping options and delivery times",
        "Tracking your order",
        "My parcel is late or missing",
        "Changing or cancelling an order",
        "Returning an item",
        "I received a damaged or wrong item",
    }
    assert len(titles) == len(set(titles))

    html = client.get("/help/search/", {"q": "asdfgh qwerty"}).content.decode()
    assert "No articles match “asdfgh qwerty”" in html
    assert 'class="help-result-title"' not in html


def test_search_hides_an_article_unpublished_after_the_index_was_built(client, kb):
    # The index still holds it until the rebuild: the page must not show a draft meanwhile.
    with index_updates_muted():
        Article.objects.filter(slug="password-reset").update(is_published=False)

    html = client.get("/help/search/", {"q": "I forgot my login password"}).content.decode()

    assert "/help/password-reset/" not in html


def test_search_is_bounded_and_empty_query_searches_nothing(client, kb, sql_log):
    html = client.get("/help/search/", {"q": "refund " * 2000}).content.decode()
    assert "When will I get my refund?" in html
    # The query shown back (and searched) is cut to 200 characters.
    assert re.search(r'value="(refund ){28}refu"', html)

    sql_log.clear()
    html = client.get("/help/search/", {"q": "   "}).content.decode()
    assert "Type a question" in html
    assert sql_log == []


def test_a_replys_sources_carry_the_article_url(kb):
    reply = reply_compose(question="How do I reset my password?", history=[])

    assert reply.sources[0]["url"] == "/help/password-reset/"
    assert reply.sources[0]["url"] == Article.objects.get(slug="password-reset").get_absolute_url()
