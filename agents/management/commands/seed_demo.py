"""manage.py seed_demo: the demo shop's knowledge base and a demo staff login, idempotently."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from agents.kb_io import kb_import
from agents.models import Article
from chat.models import CannedResponse

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
CANNED = [
    ("hello", "Greeting", "Hi, I'm here to help. Let me have a look at this for you."),
    ("order", "Ask for the order number", "Could you give me your order number, please?"),
    (
        "refund",
        "Refund started",
        "I've started your refund. It will show on your statement within 5 to 10 business days.",
    ),
    ("bye", "Closing", "Is there anything else I can help with? Have a great day!"),
]


class Command(BaseCommand):
    help = "Load the demo knowledge base (if empty) and create the demo staff user."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="demo")
        parser.add_argument("--password", default="demo-password")

    def handle(self, *args, username, password, **options):
        if not Article.objects.exists():
            result = kb_import(
                articles_file=DEMO_DIR / "articles.jsonl",
                examples_files=[DEMO_DIR / "examples.csv"],
            )
            self.stdout.write(f"Demo knowledge base: {result.articles_created} articles.")
        User = get_user_model()
        user, _ = User.objects.get_or_create(
            username=username,
            defaults={
                "is_staff": True,
                "is_superuser": True,
                "first_name": "Demo",
                "last_name": "Agent",
            },
        )
        for shortcut, title, body in CANNED:
            CannedResponse.objects.get_or_create(
                shortcut=shortcut, defaults={"title": title, "body": body}
            )
        # The demo login is public by design; resetting it keeps the printed line true.
        user.is_staff = True
        user.set_password(password)
        user.save()
        self.stdout.write(self.style.SUCCESS(f"Demo staff login: {username} / {password}"))
