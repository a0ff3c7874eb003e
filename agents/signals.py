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


def _schedule_rebuild() -> None:
    if getattr(_muted, "value", False):
        return
    from .tasks import kb_rebuild_index

    transaction.on_commit(kb_rebuild_index.delay)


@receiver([post_save, post_delete], sender=Article)
def article_changed(sender, instance, **kwargs):
    _schedule_rebuild()


@receiver([post_save, post_delete], sender=ArticleExample)
def example_changed(sender, instance, **kwargs):
    # Touch the article so the index fingerprint changes with its examples.
    Article.objects.filter(pk=instance.article_id).update(updated_at=timezone.now())
    _schedule_rebuild()
