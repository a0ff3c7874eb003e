"""Read-side queries of the knowledge base for the REST API."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .exceptions import ArticleNotFound, ExampleNotFound
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
