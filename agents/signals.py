"""Rebuild the search index (in a Celery task, after commit) whenever the knowledge base changes."""

from __future__ import annotations

import threading
from contextlib import contextmanager

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from .models import Article, ArticleExample

_muted = threading.local()


@contextmanager
def index_updates_muted():
    """Suspend automatic rebuilds (bulk imports rebuild once at the end instead)."""
    _muted.value = True
    try:
        yield
    finally:
        _muted.value = False


def _rebuild_after_commit() -> None:
    from .tasks import kb_rebuild_index

    kb_rebuild_index.delay()


def index_rebuild_schedule() -> None:
    """Queue one index rebuild after the current transaction commits (once, however many
    changes the transaction makes: an article saved with ten examples is one rebuild)."""
    pending = transaction.get_connection().run_on_commit
    # Entries are (savepoint ids, callback, robust); a rolled-back savepoint drops its own,
    # so a rebuild is never forgotten by this check.
    if any(entry[1] is _rebuild_after_commit for entry in pending):
        return
    transaction.on_commit(_rebuild_after_commit)


def _schedule_rebuild() -> None:
    if getattr(_muted, "value", False):
        return
    index_rebuild_schedule()


@receiver([post_save, post_delete], sender=Article)
def article_changed(sender, instance, **kwargs):
    _schedule_rebuild()


@receiver([post_save, post_delete], sender=ArticleExample)
def example_changed(sender, instance, **kwargs):
    # Touch the article so the index fingerprint changes with its examples.
    Article.objects.filter(pk=instance.article_id).update(updated_at=timezone.now())
    _schedule_rebuild()
