"""manage.py kb_export [--articles FILE] [--examples FILE]: write the knowledge base out."""

import sys
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand

from agents.kb_io import kb_export


class Command(BaseCommand):
    help = "Export articles as JSONL (stdout by default) and, optionally, examples as CSV."

    def add_arguments(self, parser):
        parser.add_argument("--articles", type=Path, help="JSONL file (default: stdout)")
        parser.add_argument("--examples", type=Path, help="CSV file for example questions")

    def handle(self, *args, articles=None, examples=None, **options):
        if articles is None:
            with tempfile.TemporaryDirectory() as folder:
                target = Path(folder) / "articles.jsonl"
                kb_export(articles_file=target, examples_file=examples)
                sys.stdout.write(target.read_text(encoding="utf-8"))
            return
        count = kb_export(articles_file=articles, examples_file=examples)
        self.stderr.write(f"Exported {count} articles to {articles}")
