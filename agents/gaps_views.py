"""Staff page of knowledge gaps: grouped non-answers and the actions that make them knowledge."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from chat.models import Message, MessageRole
from chat.views import staff_page

from . import services
from .exceptions import SlugTaken
from .gaps import knowledge_gaps
from .models import Article, ArticleExample

# One action takes at most this many questions (a group holds at most KNOWLEDGE_GAPS_WINDOW).
MAX_QUESTIONS = 500
EXAMPLE_MAX_CHARS = ArticleExample._meta.get_field("text").max_length


class GapQuestionsForm(forms.Form):
    """The questions of one group, by message id: only customer messages are accepted."""

    message_ids = forms.CharField(widget=forms.HiddenInput, max_length=MAX_QUESTIONS * 37)

    def clean_message_ids(self) -> list[str]:
        raw = [part for part in self.cleaned_data["message_ids"].split(",") if part.strip()]
        if not raw or len(raw) > MAX_QUESTIONS:
            raise forms.ValidationError(f"Give between 1 and {MAX_QUESTIONS} questions.")
        try:
            ids = [uuid.UUID(part.strip()) for part in raw]
        except ValueError:
            raise forms.ValidationError("Not a list of message ids.") from None
        texts = list(
            Message.objects.filter(pk__in=ids, role=MessageRole.CUSTOMER)
            .order_by("-created_at")
            .values_list("content", flat=True)
        )
        if not texts:
            raise forms.ValidationError("None of these questions exists.")
        # Distinct, in the order asked, each within an example's length.
        unique: dict[str, str] = {}
        for text in texts:
            cleaned = " ".join(text.split())[:EXAMPLE_MAX_CHARS]
            unique.setdefault(cleaned.casefold(), cleaned)
        return list(unique.values())


class AddExamplesForm(GapQuestionsForm):
    article = forms.ModelChoiceField(queryset=Article.objects.all())


@staff_page
def gaps_page(request):
    """List the knowledge gaps, grouped, with the two actions per group."""
    groups = knowledge_gaps()
    articles = list(Article.objects.order_by("title").values("pk", "title", "is_published"))
    return render(
        request,
        "console/gaps.html",
        {"section": "gaps", "groups": groups, "articles": articles},
    )


def _refused(request, form) -> object:
    detail = " ".join(e for errors in form.errors.values() for e in errors)
    messages.error(request, f"Nothing changed: {detail}")
    return redirect("console-gaps")


@staff_page
@require_POST
def gap_add_examples(request):
    """Add a group's questions to an article as examples; the index rebuilds after commit."""
    form = AddExamplesForm(request.POST)
    if not form.is_valid():
        return _refused(request, form)
    article = form.cleaned_data["article"]
    added = services.article_examples_add(article=article, texts=form.cleaned_data["message_ids"])
    messages.success(
        request,
        f"{len(added)} question(s) added to “{article.title}”; the knowledge index is rebuilt.",
    )
    return redirect("console-gaps")


def _free_slug(title: str) -> str:
    base = (slugify(title)[:100] or "draft").strip("-") or "draft"
    taken = set(Article.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in range(2, len(taken) + 3) if f"{base}-{n}" not in taken)


@staff_page
@require_POST
def gap_draft_article(request):
    """Open a new unpublished article prefilled with a group's questions, in the admin."""
    form = GapQuestionsForm(request.POST)
    if not form.is_valid():
        return _refused(request, form)
    texts = form.cleaned_data["message_ids"]
    title = texts[0][:200]
    try:
        article = services.article_create(
            slug=_free_slug(title),
            title=title,
            body="Write the answer here, then publish the article.",
            is_published=False,
            examples=texts,
        )
    except SlugTaken:  # a concurrent draft took the same slug: ask to try again
        messages.error(request, "Another draft was created at the same moment; try again.")
        return redirect("console-gaps")
    messages.success(request, f"Draft article “{article.title}” created (not published).")
    return redirect(reverse("admin:agents_article_change", args=[article.pk]))
