"""Create an API key from a script: prints the key (shown once) on stdout."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apikeys.services import InvalidScopes, api_key_create


class Command(BaseCommand):
    help = "Create an API key and print it (it is stored hashed: this is the only time it shows)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Who or what uses the key.")
        parser.add_argument(
            "--scopes",
            default="read",
            help="Comma-separated scopes among read, write, ops (default: read).",
        )

    def handle(self, *args, name: str, scopes: str, **options):
        try:
            created = api_key_create(name=name, scopes=scopes.split(","))
        except InvalidScopes as error:
            raise CommandError(str(error)) from None
        # Only the key on stdout, so scripts can capture it: KEY=$(manage.py apikey_create …)
        self.stdout.write(created.key)
        self.stderr.write(
            f"Created API key {created.api_key.name!r} "
            f"(prefix {created.api_key.prefix}, scopes {','.join(created.api_key.scopes)})."
        )
