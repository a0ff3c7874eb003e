"""The knowledge base's search index: build it from articles, store it, load and query it."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass

from django.db import transaction

from .encoder import sentence_encoder
from .models import Article, KnowledgeIndexSnapshot
from .retrieval import KnowledgeDocument, KnowledgeIndex

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArticleHit:
    article_id: int
    slug: str
    title: str
    body: str
    score: float


def _published_articles() -> list[Article]:
    return list(
        Article.objects.filter(is_published=True).prefetch_related("examples").order_by("slug")
    )


def kb_fingerprint(articles: list[Article]) -> str:
    """Return a hash that changes whenever a published article or its examples change."""
    digest = hashlib.sha256()
    for article in articles:
        digest.update(f"{article.pk}|{article.slug}|{article.updated_at.isoformat()}|".encode())
        digest.update(str(len(article.examples.all())).encode())
    return digest.hexdigest()


def index_rebuild() -> KnowledgeIndexSnapshot:
    """Build the index from the published articles and store it as the current snapshot."""
    articles = _published_articles()
    started = time.perf_counter()
    index = KnowledgeIndex.build(
        [
            KnowledgeDocument(
                key=article.slug,
                title=article.title,
                body=article.body,
                tags=tuple(str(tag) for tag in article.tags or ()),
                examples=tuple(example.text for example in article.examples.all()),
            )
            for article in articles
        ],
        encoder=sentence_encoder(),
    )
    build_ms = int((time.perf_counter() - started) * 1000)
    with transaction.atomic():
        snapshot = KnowledgeIndexSnapshot.objects.create(
            fingerprint=kb_fingerprint(articles),
            document_count=len(articles),
            build_ms=build_ms,
            data=index.dumps(),
        )
        # Keep the newest few: a worker that has just loaded an older one still finds it.
        stale = KnowledgeIndexSnapshot.objects.order_by("-pk").values_list("pk", flat=True)[3:]
        KnowledgeIndexSnapshot.objects.filter(pk__in=list(stale)).delete()
    logger.info("Knowledge index rebuilt: %d articles in %d ms", len(articles), build_ms)
    _cache.clear()
    return snapshot


class _IndexCache:
    """The current index of this process, reloaded when a newer snapshot appears."""

    def __init__(self):
        self._lock = threading.Lock()
        self.snapshot_id: int | None = None
        self.index: KnowledgeIndex | None = None
        self.articles: dict[str, tuple[int, str, str]] = {}

    def clear(self) -> None:
        with self._lock:
            self.snapshot_id = None
            self.index = None

    def current(self) -> tuple[KnowledgeIndex, dict[str, tuple[int, str, str]]]:
        latest = KnowledgeIndexSnapshot.objects.values_list("pk", flat=True).first()
        with self._lock:
            if latest is not None and latest == self.snapshot_id and self.index is not None:
                return self.index, self.articles
        if latest is None:
            # First use on an empty database: build once (this runs in the agent task).
            index_rebuild()
            latest = KnowledgeIndexSnapshot.objects.values_list("pk", flat=True).first()
        data = KnowledgeIndexSnapshot.objects.values_list("data", flat=True).get(pk=latest)
        try:
            index = KnowledgeIndex.loads(bytes(data), encoder=sentence_encoder())
        except Exception:
            # A snapshot from another version of the engine, its libraries or another encoder
            # setting: rebuild it.
            logger.warning("Index snapshot %s is unreadable; rebuilding", latest, exc_info=True)
            snapshot = index_rebuild()
            latest = snapshot.pk
            index = KnowledgeIndex.loads(bytes(snapshot.data), encoder=sentence_encoder())
        articles = {
            slug: (pk, title, body)
            for pk, slug, title, body in Article.objects.values_list("pk", "slug", "title", "body")
        }
        with self._lock:
            self.snapshot_id, self.index, self.articles = latest, index, articles
        return index, articles


_cache = _IndexCache()


def articles_search(query: str, *, limit: int = 3) -> list[ArticleHit]:
    """Return the published articles that best answer ``query``, best first."""
    index, articles = _cache.current()
    hits = []
    for hit in index.search(query, limit=limit):
        found = articles.get(hit.key)
        if found is None:
            continue  # deleted since the index was built; the rebuild task is on its way
        pk, title, body = found
        hits.append(
            ArticleHit(article_id=pk, slug=hit.key, title=title, body=body, score=hit.score)
        )
    return hits
