"""manage.py connections_cleanup [--all]: remove stale (or, at start-up, all) connection rows."""

from django.core.management.base import BaseCommand

from chat.models import Connection
from chat.services import connections_cleanup_stale


class Command(BaseCommand):
    help = "Remove connection rows silent longer than CHAT_STALE_AFTER (or all with --all)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--all",
            action="store_true",
            help="remove every row: for starting a single embedded-mode server, whose "
            "in-memory channel layer cannot reach sockets of an earlier process",
        )

    def handle(self, *args, **options):
        if options["all"]:
            removed, _ = Connection.objects.all().delete()
        else:
            removed = connections_cleanup_stale()
        self.stdout.write(f"Removed {removed} connection rows.")
