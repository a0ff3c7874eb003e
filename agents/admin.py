"""Admin for the knowledge base: articles (tags edited as tags, a "try a question" box) with
their example questions, and index builds."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.template.response import TemplateResponse
from django.urls import path, reverse

from .models import Article, ArticleExample, KnowledgeIndexSnapshot
from .pipeline import reply_compose

# The same limits as the REST API's article input (agents/api.py).
TAGS_MAX = 20
TAG_MAX_CHARS = 50
TRY_QUESTION_MAX_CHARS = 500


class TagsField(forms.CharField):
    """Tags typed as "refunds, payments" and stored as the JSON list the REST API exposes."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text", f"Comma-separated, e.g. “refunds, payments” (at most {TAGS_MAX})."
        )
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(str(tag) for tag in value)
        return value

    def to_python(self, value) -> list[str]:
        if isinstance(value, list | tuple):
            value = ",".join(str(tag) for tag in value)
        tags: list[str] = []
        for raw in str(value or "").split(","):
            tag = " ".join(raw.split())
            if tag and tag not in tags:
                tags.append(tag)
        return tags

    def validate(self, value: list[str]) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if len(value) > TAGS_MAX:
            raise forms.ValidationError(f"At most {TAGS_MAX} tags.", code="too_many")
        too_long = [tag for tag in value if len(tag) > TAG_MAX_CHARS]
        if too_long:
            raise forms.ValidationError(
                f"A tag has at most {TAG_MAX_CHARS} characters: {too_long[0][:60]}…",
                code="too_long",
            )

    def has_changed(self, initial, data) -> bool:
        return self.to_python(initial) != self.to_python(data)


class ArticleAdminForm(forms.ModelForm):
    tags = TagsField()

    class Meta:
        model = Article
        fields = ["slug", "title", "body", "tags", "is_published"]


class TryQuestionForm(forms.Form):
    question = forms.CharField(
        max_length=TRY_QUESTION_MAX_CHARS,
        strip=True,
        widget=forms.TextInput(attrs={"size": 70, "autofocus": True}),
        help_text="A customer's question, as they would type it in the chat.",
    )


class ArticleExampleInline(admin.TabularInline):
    model = ArticleExample
    extra = 1


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    form = ArticleAdminForm
    list_display = ["title", "slug", "tag_list", "is_published", "updated_at"]
    list_filter = ["is_published"]
    search_fields = ["title", "slug", "body"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [ArticleExampleInline]
    actions = ["publish", "unpublish"]
    # Both pages link to the "Try a question" box (object tools).
    change_list_template = "admin/agents/article/change_list.html"
    change_form_template = "admin/agents/article/change_form.html"

    @admin.display(description="tags")
    def tag_list(self, article):
        return ", ".join(str(tag) for tag in article.tags or ()) or "—"

    def get_urls(self):
        try_view = self.admin_site.admin_view(self.try_question_view)
        return [
            path("try/", try_view, name="agents_article_try"),
            *super().get_urls(),
        ]

    def try_question_view(self, request):
        """Show what the agent would answer a question now, storing nothing.

        The agent's own pipeline (smalltalk, memory-less search of the published index,
        escalation policy, provider) composes the reply exactly as for a customer; no
        session, message or escalation is created.
        """
        if not self.has_view_permission(request):
            raise PermissionDenied
        article = None
        article_id = request.GET.get("article", "")
        if article_id.isdigit():
            article = Article.objects.filter(pk=int(article_id)).first()
        form = TryQuestionForm(request.POST or None)
        reply = None
        if request.method == "POST" and form.is_valid():
            reply = reply_compose(question=form.cleaned_data["question"], history=[])
        matched_ids = {source["article_id"] for source in reply.sources} if reply else set()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Try a question",
            "form": form,
            "reply": reply,
            "article": article,
            "article_matched": article is not None and article.pk in matched_ids,
            "candidates": (reply.metadata.get("candidates") or []) if reply else [],
            "confidence_pct": round(reply.confidence * 100) if reply else None,
            "changelist_url": reverse("admin:agents_article_changelist"),
        }
        return TemplateResponse(request, "admin/agents/article/try_question.html", context)

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
