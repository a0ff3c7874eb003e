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


class KnowledgeIndexUnavailable(Exception):
    """No usable index yet: its rebuild has been asked for and runs in a Celery task."""


# How long one process waits before asking again for a rebuild that has not appeared.
_REBUILD_REQUEST_INTERVAL_S = 300.0


class _IndexCache:
    """The current index of this process, reloaded when a newer snapshot appears."""

    def __init__(self):
        self._lock = threading.Lock()
        self.snapshot_id: int | None = None
        self.index: KnowledgeIndex | None = None
        self.articles: dict[str, tuple[int, str, str]] = {}
        self._rebuild_requested_at: float | None = None
        # The snapshot found unreadable last, so that replies waiting for its rebuild do not
        # each unpickle it again.
        self._unreadable_id: int | None = None

    def clear(self) -> None:
        with self._lock:
            self.snapshot_id = None
            self.index = None
            self._rebuild_requested_at = None
            self._unreadable_id = None

    def _rebuild_request(self) -> None:
        """Ask the worker for a rebuild, at most once per interval per process."""
        now = time.monotonic()
        with self._lock:
            last = self._rebuild_requested_at
            if last is not None and now - last < _REBUILD_REQUEST_INTERVAL_S:
                return
            self._rebuild_requested_at = now
        from .tasks import kb_rebuild_index

        # Eager (embedded mode) this builds now; with a worker it is queued and this reply
        # goes on without the index.
        kb_rebuild_index.delay()

    def _load(self, snapshot_id: int) -> KnowledgeIndex | None:
        if snapshot_id == self._unreadable_id:
            return None
        data = KnowledgeIndexSnapshot.objects.values_list("data", flat=True).get(pk=snapshot_id)
        try:
            return KnowledgeIndex.loads(bytes(data), encoder=sentence_encoder())
        except Exception:
            # A snapshot from another version of the engine, its libraries or another encoder
            # setting.
            logger.warning("Index snapshot %s is unreadable", snapshot_id, exc_info=True)
            self._unreadable_id = snapshot_id
            return None

    def current(self) -> tuple[KnowledgeIndex, dict[str, tuple[int, str, str]]]:
        """Return the newest usable index, or raise KnowledgeIndexUnavailable.

        Building is never done here: a large knowledge base takes minutes (Banking77: about
        two), far beyond a reply's time limit. A missing or unreadable snapshot asks the
        worker for a rebuild instead.
        """
        latest = KnowledgeIndexSnapshot.objects.values_list("pk", flat=True).first()
        with self._lock:
            if latest is not None and latest == self.snapshot_id and self.index is not None:
                return self.index, self.articles
        index = self._load(latest) if latest is not None else None
        if index is None:
            self._rebuild_request()
            rebuilt = KnowledgeIndexSnapshot.objects.values_list("pk", flat=True).first()
            if rebuilt is None or rebuilt == latest or (index := self._load(rebuilt)) is None:
                raise KnowledgeIndexUnavailable("the knowledge index is being rebuilt")
            latest = rebuilt
        articles = {
            slug: (pk, title, body)
            for pk, slug, title, body in Article.objects.values_list("pk", "slug", "title", "body")
        }
        with self._lock:
            self.snapshot_id, self.index, self.articles = latest, index, articles
            self._rebuild_requested_at = None
        return index, articles


_cache = _IndexCache()


def articles_search(query: str, *, limit: int = 3) -> list[ArticleHit]:
    """Return the published articles that best answer ``query``, best first.

    Raises KnowledgeIndexUnavailable while there is no usable index (its rebuild is queued).
    """
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


def index_warm() -> bool:
    """Load the sentence encoder and the current index now; return whether an index is ready.

    A worker calls it when it starts, so its first reply does not pay the model load and the
    snapshot's unpickling (~1 s, docs/performance.md). Never raises: a worker with no index
    yet still starts, and its first reply asks for the rebuild as before.
    """
    try:
        sentence_encoder()
        if not KnowledgeIndexSnapshot.objects.exists():
            return False  # nothing to load; no rebuild is asked for from here
        _cache.current()
        return True
    except Exception:
        logger.warning("Knowledge index not warmed up at worker start", exc_info=True)
        return False


def articles_search_many(queries: list[str], *, limit: int = 3) -> list[list[ArticleHit]]:
    """Return ``articles_search`` for each query, reading the current index once for all."""
    index, articles = _cache.current()
    out = []
    for query in queries:
        hits = []
        for hit in index.search(query, limit=limit):
            found = articles.get(hit.key)
            if found is not None:
                pk, title, body = found
                hits.append(
                    ArticleHit(article_id=pk, slug=hit.key, title=title, body=body, score=hit.score)
                )
        out.append(hits)
    return out
