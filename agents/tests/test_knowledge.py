"""The stored index: rebuilt for another encoder setting, by hand, and never on the reply path."""

from __future__ import annotations

import pytest
from django.test import override_settings

from agents import knowledge
from agents.knowledge import articles_search, index_rebuild
from agents.models import KnowledgeIndexSnapshot
from agents.pipeline import confidence_threshold, reply_compose
from agents.retrieval import DEFAULT_CONFIDENCE_THRESHOLD, TFIDF_ONLY_CONFIDENCE_THRESHOLD
from supportdesk.celery import app as celery_app

pytestmark = pytest.mark.django_db(transaction=True)


def test_switching_the_encoder_off_rebuilds_the_snapshot_instead_of_failing(demo_kb):
    index_rebuild()
    built_with_encoder = KnowledgeIndexSnapshot.objects.values_list("pk", flat=True).first()
    assert articles_search("How do I reset my password?")[0].title == "Resetting your password"

    # Settings are read at start-up: a restarted process has no index loaded yet.
    knowledge._cache.clear()
    with override_settings(AGENT_ENCODER="none"):
        hits = articles_search("How do I reset my password?")
    assert hits[0].title == "Resetting your password"
    newest = KnowledgeIndexSnapshot.objects.values_list("pk", flat=True).first()
    assert newest != built_with_encoder

    # And back: the TF-IDF-only snapshot is refused by the default engine and rebuilt again.
    knowledge._cache.clear()
    assert articles_search("How do I reset my password?")[0].title == "Resetting your password"
    assert KnowledgeIndexSnapshot.objects.values_list("pk", flat=True).first() != newest


def test_the_default_threshold_follows_the_engine():
    assert confidence_threshold() == DEFAULT_CONFIDENCE_THRESHOLD
    with override_settings(AGENT_ENCODER="none"):
        assert confidence_threshold() == TFIDF_ONLY_CONFIDENCE_THRESHOLD
    with override_settings(AGENT_ENCODER="none", AGENT_CONFIDENCE_THRESHOLD=0.6):
        assert confidence_threshold() == 0.6


def test_kb_rebuild_command_stores_a_new_readable_snapshot(demo_kb):
    from io import StringIO

    from django.core.management import call_command

    before = KnowledgeIndexSnapshot.objects.values_list("pk", flat=True).first()
    out = StringIO()
    call_command("kb_rebuild", stdout=out)
    newest = KnowledgeIndexSnapshot.objects.get(pk=KnowledgeIndexSnapshot.objects.first().pk)
    assert newest.pk != before
    assert f"Index snapshot {newest.pk}: {newest.document_count} articles" in out.getvalue()
    knowledge._cache.clear()
    assert articles_search("How do I reset my password?")[0].title == "Resetting your password"
    assert knowledge._cache.snapshot_id == newest.pk


def test_an_unreadable_snapshot_is_never_rebuilt_on_the_reply_path(demo_kb):
    """With a real worker (Celery not eager) the reply queues the rebuild and hands over."""
    unreadable = KnowledgeIndexSnapshot.objects.create(
        fingerprint="from-another-engine", document_count=0, build_ms=0, data=b"not an index"
    )
    knowledge._cache.clear()
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False  # published to the in-memory broker, not run
    try:
        reply = reply_compose(question="How do I reset my password?", history=[])
        again = reply_compose(question="Where is my order?", history=[])
    finally:
        celery_app.conf.task_always_eager = eager
    for answer in (reply, again):
        assert answer.escalate
        assert answer.reasons == ["knowledge_index_unavailable"]
        assert answer.sources == []
    assert KnowledgeIndexSnapshot.objects.values_list("pk", flat=True).first() == unreadable.pk

    # Once a worker has stored a new snapshot, replies use it.
    index_rebuild()
    reply = reply_compose(question="How do I reset my password?", history=[])
    assert not reply.escalate
    assert reply.sources[0]["title"] == "Resetting your password"


def test_a_worker_warms_the_index_before_its_first_reply(demo_kb):
    from celery.concurrency.prefork import TaskPool as PreforkPool
    from celery.concurrency.thread import TaskPool as ThreadPool

    from agents import apps

    index_rebuild()
    knowledge._cache.clear()
    # A prefork parent must not load the ONNX runtime before it forks: its children warm up.
    apps._warm_threaded_worker(
        sender=type("Consumer", (), {"pool": PreforkPool.__new__(PreforkPool)})
    )
    assert knowledge._cache.index is None
    apps._warm_threaded_worker(
        sender=type("Consumer", (), {"pool": ThreadPool.__new__(ThreadPool)})
    )
    assert knowledge._cache.index is not None


def test_warming_with_no_snapshot_asks_for_no_rebuild():
    KnowledgeIndexSnapshot.objects.all().delete()
    knowledge._cache.clear()
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        assert knowledge.index_warm() is False
    finally:
        celery_app.conf.task_always_eager = eager
    assert knowledge._cache._rebuild_requested_at is None
    assert not KnowledgeIndexSnapshot.objects.exists()
