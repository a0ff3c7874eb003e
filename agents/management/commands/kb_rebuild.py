"""manage.py kb_rebuild: build the knowledge index now (e.g. after a deploy, before traffic)."""

from django.core.management.base import BaseCommand

from agents.knowledge import index_rebuild


class Command(BaseCommand):
    help = "Build the knowledge-base search index from the published articles and store it."

    def handle(self, *args, **options):
        snapshot = index_rebuild()
        self.stdout.write(
            f"Index snapshot {snapshot.pk}: {snapshot.document_count} articles "
            f"in {snapshot.build_ms} ms"
        )
