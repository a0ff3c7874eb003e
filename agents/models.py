"""Knowledge-base articles, their example questions, and the built search index."""

from __future__ import annotations

from django.db import models
from django.urls import reverse


def article_url(slug: str) -> str:
    """Return the absolute path of an article's help-center page (``/help/<slug>/``)."""
    return reverse("help-article", kwargs={"slug": slug})


class Article(models.Model):
    slug = models.SlugField(max_length=120, unique=True)
    title = models.CharField(max_length=200)
    body = models.TextField()
    tags = models.JSONField(default=list, blank=True)
    is_published = models.BooleanField(default=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return article_url(self.slug)


class ArticleExample(models.Model):
    """A customer question this article answers (help centres' "related questions")."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="examples")
    text = models.CharField(max_length=500)

    class Meta:
        ordering = ["article", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["article", "text"], name="example_unique_text"),
        ]

    def __str__(self) -> str:
        return self.text


class KnowledgeIndexSnapshot(models.Model):
    """A built search index, stored so every worker loads it instead of rebuilding it."""

    fingerprint = models.CharField(max_length=64, db_index=True)
    document_count = models.PositiveIntegerField()
    built_at = models.DateTimeField(auto_now_add=True)
    build_ms = models.PositiveIntegerField(default=0)
    # Pickled agents.retrieval.KnowledgeIndex: written only by index_rebuild() from our own
    # articles, never from user-supplied bytes.
    data = models.BinaryField()

    class Meta:
        ordering = ["-pk"]
        get_latest_by = "pk"

    def __str__(self) -> str:
        return f"index #{self.pk} ({self.document_count} articles)"
