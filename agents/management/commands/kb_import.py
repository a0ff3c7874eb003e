"""manage.py kb_import FILE [FILE …]: import JSONL articles and CSV example questions."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from agents.kb_io import ImportFileError, kb_import


class Command(BaseCommand):
    help = "Import articles (.jsonl: slug,title,body) and example questions (.csv: text,slug)."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path)

    def handle(self, *args, files, **options):
        articles = [f for f in files if f.suffix.lower() in (".jsonl", ".json")]
        examples = [f for f in files if f.suffix.lower() == ".csv"]
        unknown = set(files) - set(articles) - set(examples)
        if unknown or len(articles) > 1:
            raise CommandError("Give at most one .jsonl articles file and any .csv example files.")
        for path in files:
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
        try:
            result = kb_import(
                articles_file=articles[0] if articles else None, examples_files=examples
            )
        except ImportFileError as error:
            raise CommandError(str(error)) from None
        for original, stored in result.renamed_slugs.items():
            self.stderr.write(f"Slug {original!r} is not a valid slug: stored as {stored!r}.")
        self.stdout.write(
            f"Articles created: {result.articles_created}, updated: {result.articles_updated}; "
            f"examples added: {result.examples_added}. Index rebuilt."
        )
