"""Index rebuilds on knowledge-base changes: after commit, once per transaction."""

from __future__ import annotations

import pytest
from django.db import transaction

from agents.models import Article, ArticleExample

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queued(monkeypatch):
    """Record each rebuild that reaches the Celery task (the queue, not the callbacks)."""
    from agents.tasks import kb_rebuild_index

    calls = []
    monkeypatch.setattr(kb_rebuild_index, "delay", lambda *a, **k: calls.append(1))
    return calls


def test_an_article_saved_with_its_examples_rebuilds_once_after_commit(queued):
    with transaction.atomic():
        article = Article.objects.create(slug="refunds", title="Refunds", body="Five days.")
        for text in ("refund?", "where is my money", "refund status"):
            ArticleExample.objects.create(article=article, text=text)
        article.title = "Refunds and returns"
        article.save()
        assert queued == []  # nothing before commit
    assert queued == [1]


def test_a_rolled_back_change_queues_nothing(queued):
    with pytest.raises(RuntimeError), transaction.atomic():
        Article.objects.create(slug="gone", title="Gone", body="x")
        raise RuntimeError
    assert queued == []


def test_a_rolled_back_savepoint_does_not_swallow_a_later_change(queued):
    with transaction.atomic():
        try:
            with transaction.atomic():
                Article.objects.create(slug="first", title="First", body="x")
                raise RuntimeError
        except RuntimeError:
            pass
        Article.objects.create(slug="second", title="Second", body="x")
    assert queued == [1]


def test_each_committed_transaction_rebuilds(queued):
    Article.objects.create(slug="a", title="A", body="x")  # autocommit: one each
    Article.objects.create(slug="b", title="B", body="x")
    assert queued == [1, 1]


def test_the_admin_publish_action_rebuilds_once(queued, client):
    from tests.factories import UserFactory

    articles = [
        Article.objects.create(slug=f"a{n}", title=f"A{n}", body="x", is_published=False)
        for n in range(3)
    ]
    queued.clear()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(
        "/admin/agents/article/",
        {"action": "publish", "_selected_action": [a.pk for a in articles]},
    )
    assert response.status_code == 302
    assert Article.objects.filter(is_published=True).count() == 3
    assert queued == [1]
