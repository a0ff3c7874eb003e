"""Read-side queries of the knowledge base for the REST API and the public help center."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .exceptions import ArticleNotFound, ExampleNotFound
from .knowledge import KnowledgeIndexUnavailable, articles_search
from .models import Article, ArticleExample

# The longest search text accepted by the article list.
ARTICLE_SEARCH_MAX_CHARS = 100


def articles_list(*, search: str | None = None, is_published: bool | None = None) -> QuerySet:
    """Return articles by title, optionally matching ``search`` (title, slug, body) or published."""
    queryset = Article.objects.all()
    if is_published is not None:
        queryset = queryset.filter(is_published=is_published)
    if search:
        text = search[:ARTICLE_SEARCH_MAX_CHARS]
        queryset = queryset.filter(
            Q(title__icontains=text) | Q(slug__icontains=text) | Q(body__icontains=text)
        )
    return queryset.order_by("title", "pk")


def article_get(*, article_id: int) -> Article:
    """Return the article or raise ArticleNotFound."""
    try:
        return Article.objects.get(pk=article_id)
    except Article.DoesNotExist:
        raise ArticleNotFound() from None


def article_examples(*, article_id: int) -> QuerySet:
    """Return an article's example questions in the order they were added."""
    return ArticleExample.objects.filter(article_id=article_id).order_by("pk")


def article_example_get(*, article_id: int, example_id: int) -> ArticleExample:
    """Return one example question of the article or raise ExampleNotFound."""
    try:
        return ArticleExample.objects.get(pk=example_id, article_id=article_id)
    except ArticleExample.DoesNotExist:
        raise ExampleNotFound() from None


# --- The public help center (agents/helpcenter.py) --------------------------------------------

# The help center's search: the longest query read, and the most results shown.
HELP_QUERY_MAX_CHARS = 200
HELP_SEARCH_LIMIT = 10
# The retrieval's scores are probabilities over all articles: below this an article is not
# about the query at all (gibberish scores ~0.003 everywhere; a matching article 0.2–0.99).
HELP_MIN_SCORE = 0.1


def help_articles() -> list[Article]:
    """Return the published articles for the help center's index, by title (one query)."""
    return list(
        Article.objects.filter(is_published=True)
        .only("slug", "title", "body", "tags", "updated_at")
        .order_by("title", "pk")
    )


def help_article_get(*, slug: str) -> Article:
    """Return the published article with ``slug`` or raise ArticleNotFound (drafts too)."""
    try:
        return Article.objects.get(slug=slug, is_published=True)
    except Article.DoesNotExist:
        raise ArticleNotFound() from None


def help_search(*, query: str) -> list[Article]:
    """Return the published articles that best answer ``query``, best first, bounded.

    First what the agent's own retrieval ranks as relevant (the same index the AI answers
    from; scores below HELP_MIN_SCORE are noise, every article gets some), then articles
    whose title or body contains the query's text. While the index is being rebuilt the
    text match alone keeps the page useful.
    """
    text = " ".join(query.split())[:HELP_QUERY_MAX_CHARS]
    if not text:
        return []
    try:
        hits = [
            hit
            for hit in articles_search(text, limit=HELP_SEARCH_LIMIT)
            if hit.score >= HELP_MIN_SCORE
        ]
    except KnowledgeIndexUnavailable:
        hits = []
    found: list[Article] = []
    if hits:
        # The index may be a little older than the last edit: keep only what is published now.
        published = Article.objects.filter(
            pk__in=[hit.article_id for hit in hits], is_published=True
        )
        by_pk = {article.pk: article for article in published}
        found = [by_pk[hit.article_id] for hit in hits if hit.article_id in by_pk]
    if len(found) < HELP_SEARCH_LIMIT:
        matches = articles_list(search=text, is_published=True).exclude(
            pk__in=[article.pk for article in found]
        )
        found.extend(matches[: HELP_SEARCH_LIMIT - len(found)])
    return found
