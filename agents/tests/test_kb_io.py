"""Knowledge-base import and export."""

import json

import pytest
from django.core.management import CommandError, call_command

from agents.kb_io import ImportFileError, kb_import
from agents.models import Article, ArticleExample

pytestmark = pytest.mark.django_db


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_import_keeps_slugs_exactly_and_attaches_examples(tmp_path):
    articles = write(
        tmp_path / "a.jsonl",
        "\n".join(
            [
                json.dumps({"slug": "Refund_not_showing_up", "title": "Refunds", "body": "Body."}),
                json.dumps({"slug": "Needs Slugging!", "title": "T", "body": "B."}),
            ]
        ),
    )
    examples = write(
        tmp_path / "e.csv",
        "text,slug\nWhere is my refund?,Refund_not_showing_up\n"
        "Where is my refund?,Refund_not_showing_up\n",
    )
    result = kb_import(articles_file=articles, examples_files=[examples])
    assert sorted(Article.objects.values_list("slug", flat=True)) == [
        "Refund_not_showing_up",
        "needs-slugging",
    ]
    assert result.examples_added == 1  # the repeated example is stored once
    assert result.renamed_slugs == {"Needs Slugging!": "needs-slugging"}
    assert ArticleExample.objects.get().article.slug == "Refund_not_showing_up"


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json}\n", "not JSON"), ('{"slug": "x", "title": "t"}\n', "slug, title, body")],
)
def test_bad_article_files_are_refused_with_the_line(tmp_path, content, message):
    with pytest.raises(ImportFileError, match=message):
        kb_import(articles_file=write(tmp_path / "a.jsonl", content))
    assert not Article.objects.exists()


def test_examples_for_unknown_articles_are_refused(tmp_path):
    examples = write(tmp_path / "e.csv", "text,slug\nhello,nowhere\n")
    with pytest.raises(ImportFileError, match="unknown article"):
        kb_import(examples_files=[examples])


def test_commands_round_trip(tmp_path):
    articles = write(
        tmp_path / "a.jsonl",
        json.dumps({"slug": "returns", "title": "Returns", "body": "30 days."}),
    )
    examples = write(tmp_path / "e.csv", "text,slug\nCan I send it back?,returns\n")
    call_command("kb_import", str(articles), str(examples))
    call_command(
        "kb_export",
        "--articles",
        str(tmp_path / "out.jsonl"),
        "--examples",
        str(tmp_path / "out.csv"),
    )
    exported = json.loads((tmp_path / "out.jsonl").read_text())
    assert (exported["slug"], exported["title"], exported["body"]) == (
        "returns",
        "Returns",
        "30 days.",
    )
    assert "Can I send it back?,returns" in (tmp_path / "out.csv").read_text()
    with pytest.raises(CommandError):
        call_command("kb_import", str(tmp_path / "missing.jsonl"))
