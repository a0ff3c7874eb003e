"""The stored index and the encoder setting: a snapshot built one way is rebuilt for the other."""

from __future__ import annotations

import pytest
from django.test import override_settings

from agents import knowledge
from agents.knowledge import articles_search, index_rebuild
from agents.models import KnowledgeIndexSnapshot
from agents.pipeline import confidence_threshold
from agents.retrieval import DEFAULT_CONFIDENCE_THRESHOLD, TFIDF_ONLY_CONFIDENCE_THRESHOLD

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
