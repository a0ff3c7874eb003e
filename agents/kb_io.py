"""Knowledge-base import and export: JSONL articles and CSV example questions."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.utils.text import slugify

from .kb_files import ImportFileError, read_articles, read_examples
from .knowledge import index_rebuild
from .models import Article, ArticleExample
from .signals import index_updates_muted


@dataclass
class ImportResult:
    articles_created: int = 0
    articles_updated: int = 0
    examples_added: int = 0
    # Slugs in the file that are not valid slugs, and the slug each article was stored under
    # (Banking77's "reverted_card_payment?" becomes "reverted_card_payment").
    renamed_slugs: dict[str, str] = field(default_factory=dict)


def article_slug(raw: str) -> str:
    """Return the slug an article is stored under: a valid slug exactly (case matters: it is
    the article's public key), anything else slugified. Shared by kb_import and the REST API."""
    try:
        validate_slug(raw)
        return raw
    except ValidationError:
        return slugify(raw)


def kb_import(
    *,
    articles_file: Path | None = None,
    examples_files: Iterable[Path] = (),
    rebuild: bool = True,
) -> ImportResult:
    """Create or update articles and add example questions, then rebuild the index once."""
    result = ImportResult()
    articles = list(read_articles(articles_file)) if articles_file else []
    examples = [pair for path in examples_files for pair in read_examples(path)]
    with transaction.atomic(), index_updates_muted():
        for row in articles:
            slug = article_slug(row["slug"])
            if slug != row["slug"]:
                result.renamed_slugs[row["slug"]] = slug
            _, created = Article.objects.update_or_create(
                slug=slug,
                defaults={key: row[key] for key in ("title", "body", "tags", "is_published")},
            )
            result.articles_created += created
            result.articles_updated += not created
        by_slug = dict(Article.objects.values_list("slug", "pk"))
        known = set(ArticleExample.objects.values_list("article_id", "text"))
        new = []
        for text, slug in examples:
            article_id = by_slug.get(slug) or by_slug.get(article_slug(slug))
            if article_id is None:
                raise ImportFileError(f"example {text!r} names unknown article {slug!r}")
            if (article_id, text) not in known:
                known.add((article_id, text))
                new.append(ArticleExample(article_id=article_id, text=text))
        ArticleExample.objects.bulk_create(new, batch_size=1000)
        result.examples_added = len(new)
    if rebuild:
        index_rebuild()
    return result


def kb_export(*, articles_file: Path, examples_file: Path | None = None) -> int:
    """Write every article as JSONL (and examples as CSV); return the number of articles."""
    count = 0
    with articles_file.open("w", encoding="utf-8") as handle:
        for article in Article.objects.order_by("slug"):
            handle.write(
                json.dumps(
                    {
                        "slug": article.slug,
                        "title": article.title,
                        "body": article.body,
                        "tags": article.tags,
                        "is_published": article.is_published,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
            count += 1
    if examples_file is not None:
        with examples_file.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "slug"])
            for text, slug in ArticleExample.objects.order_by("article__slug", "pk").values_list(
                "text", "article__slug"
            ):
                writer.writerow([text, slug])
    return count
