"""Admin for the knowledge base: articles with their example questions, and index builds."""

from django.contrib import admin
from django.db import transaction

from .models import Article, ArticleExample, KnowledgeIndexSnapshot


class ArticleExampleInline(admin.TabularInline):
    model = ArticleExample
    extra = 1


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "is_published", "updated_at"]
    list_filter = ["is_published"]
    search_fields = ["title", "slug", "body"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [ArticleExampleInline]
    actions = ["publish", "unpublish"]

    @admin.action(description="Publish selected articles")
    def publish(self, request, queryset):
        self._set_published(queryset, True)

    @admin.action(description="Unpublish selected articles")
    def unpublish(self, request, queryset):
        self._set_published(queryset, False)

    @staticmethod
    def _set_published(queryset, value: bool) -> None:
        # One transaction: the index rebuilds once after commit, not once per article.
        with transaction.atomic():
            for article in queryset:
                article.is_published = value
                article.save(update_fields=["is_published", "updated_at"])


@admin.register(KnowledgeIndexSnapshot)
class KnowledgeIndexSnapshotAdmin(admin.ModelAdmin):
    list_display = ["pk", "document_count", "build_ms", "built_at", "fingerprint"]
    exclude = ["data"]
    readonly_fields = ["fingerprint", "document_count", "build_ms", "built_at"]

    def has_add_permission(self, request):
        return False
