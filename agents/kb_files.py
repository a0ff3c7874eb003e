"""Read knowledge-base files (JSONL articles, CSV example questions) as kb_import stores them,
and labelled question files (CSV text,expected) as evaluate_agent reads them.

Free of Django, so that bench/eval_retrieval.py builds the very knowledge base that
`manage.py kb_import` and `evaluate_agent` build, and asks the same questions.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

# The lengths of Article.title and ArticleExample.text.
TITLE_MAX_CHARS = 200
EXAMPLE_MAX_CHARS = 500


class ImportFileError(Exception):
    """The file is not in the expected format; the message says where."""


def read_articles(path: Path) -> Iterator[dict]:
    """Yield {slug, title, body, tags, is_published} per line, cleaned as they are stored."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as error:
                raise ImportFileError(f"{path}:{number}: not JSON ({error})") from None
            if not isinstance(row, dict) or not all(
                isinstance(row.get(key), str) and row.get(key).strip()
                for key in ("slug", "title", "body")
            ):
                raise ImportFileError(f"{path}:{number}: needs string fields slug, title, body")
            tags = row.get("tags", [])
            if not isinstance(tags, list):
                raise ImportFileError(f"{path}:{number}: tags must be a list")
            yield {
                "slug": row["slug"],
                "title": row["title"].strip()[:TITLE_MAX_CHARS],
                "body": row["body"].strip(),
                "tags": [str(tag) for tag in tags],
                "is_published": bool(row.get("is_published", True)),
            }


def read_examples(path: Path) -> Iterator[tuple[str, str]]:
    """Yield (text, slug) per CSV row, stripped, the text cut to its stored length."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"text", "slug"} <= set(reader.fieldnames):
            raise ImportFileError(f"{path}: the CSV header must have columns text,slug")
        for number, row in enumerate(reader, start=2):
            text, slug = (row.get("text") or "").strip(), (row.get("slug") or "").strip()
            if not text or not slug:
                raise ImportFileError(f"{path}:{number}: text and slug are required")
            yield text[:EXAMPLE_MAX_CHARS], slug


def read_questions(path: Path) -> list[tuple[str, str]]:
    """Return the (text, expected) rows of a labelled question file."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [(row["text"], row["expected"]) for row in csv.DictReader(handle)]
