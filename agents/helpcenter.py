"""The public help center: server-rendered pages of the published articles (no login).

``/help/`` lists them grouped by topic, ``/help/search/?q=`` ranks them with the agent's own
retrieval, ``/help/<slug>/`` shows one. Drafts answer 404. A reply's sources link here
(:func:`article_url`), so a customer can open what the answer was taken from.
"""

from __future__ import annotations

from collections import defaultdict

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.text import Truncator
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from . import selectors
from .exceptions import ArticleNotFound
from .models import Article, article_url

# Public, identical for everyone: browsers and proxies may keep a page for a minute, so an
# edit shows within that time.
_PUBLIC = cache_control(public=True, max_age=60)
OTHER_TOPIC = "Other"
DESCRIPTION_CHARS = 155  # what search engines show of a meta description


def _description(article: Article) -> str:
    return Truncator(" ".join(article.body.split())).chars(DESCRIPTION_CHARS)


def _topics(articles: list[Article]) -> list[tuple[str, list[Article]]]:
    """Group articles under their first tag (their main topic), topics by name, untagged last."""
    groups: dict[str, list[Article]] = defaultdict(list)
    for article in articles:
        tags = [str(tag).strip() for tag in article.tags or () if str(tag).strip()]
        groups[tags[0].capitalize() if tags else OTHER_TOPIC].append(article)
    named = sorted((name, items) for name, items in groups.items() if name != OTHER_TOPIC)
    if OTHER_TOPIC in groups:
        named.append((OTHER_TOPIC, groups[OTHER_TOPIC]))
    return named


@require_safe
@_PUBLIC
def help_index(request: HttpRequest) -> HttpResponse:
    """Render the list of published articles, grouped by topic."""
    articles = selectors.help_articles()
    return render(
        request,
        "help/index.html",
        {
            "topics": _topics(articles),
            "article_count": len(articles),
            "canonical": request.build_absolute_uri(reverse("help")),
        },
    )


@require_safe
@_PUBLIC
def help_search(request: HttpRequest) -> HttpResponse:
    """Render the articles that best answer ``?q=`` (bounded length and result count)."""
    query = " ".join(request.GET.get("q", "").split())[: selectors.HELP_QUERY_MAX_CHARS]
    results = selectors.help_search(query=query) if query else []
    return render(
        request,
        "help/search.html",
        {
            "query": query,
            "results": [(article, _description(article)) for article in results],
            "max_chars": selectors.HELP_QUERY_MAX_CHARS,
            # Results pages are not worth indexing; the list and the articles are.
            "canonical": request.build_absolute_uri(reverse("help")),
        },
    )


@require_safe
@_PUBLIC
def help_article(request: HttpRequest, slug: str) -> HttpResponse:
    """Render one published article; a draft or unknown slug is a 404."""
    try:
        article = selectors.help_article_get(slug=slug)
    except ArticleNotFound:
        # The help center's own page (search box, way back), not the site's bare 404.
        return render(
            request,
            "help/not_found.html",
            {"canonical": request.build_absolute_uri(reverse("help"))},
            status=404,
        )
    return render(
        request,
        "help/article.html",
        {
            "article": article,
            "description": _description(article),
            "canonical": request.build_absolute_uri(article_url(article.slug)),
        },
    )
