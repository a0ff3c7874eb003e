"""manage.py evaluate_agent --articles F --examples F --questions F [--json]: measure the agent."""

import json
import random
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from agents.evaluation import evaluate_agent
from agents.kb_files import read_questions


class Command(BaseCommand):
    help = (
        "Run labelled questions through the agent pipeline and report its accuracy, and the "
        "share of out-of-scope questions that reached the human queue."
    )

    def add_arguments(self, parser):
        parser.add_argument("--articles", type=Path, required=True)
        parser.add_argument("--examples", type=Path)
        parser.add_argument("--questions", type=Path, required=True)
        parser.add_argument("--json", action="store_true", help="end with one JSON line")
        parser.add_argument("--sample", type=int, help="evaluate a seeded random sample")
        parser.add_argument("--seed", type=int, default=1234)

    def handle(self, *args, articles, examples, questions, json: bool, sample, seed, **opts):
        for path in filter(None, (articles, examples, questions)):
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
        rows = read_questions(questions)
        if sample:
            rows = random.Random(seed).sample(rows, min(sample, len(rows)))
        report = evaluate_agent(articles=articles, examples=examples, questions=rows)
        summary = report.as_dict()
        for key, value in summary.items():
            self.stdout.write(f"{key:>22}: {value}")
        met = ", ".join(f"{name} {count}" for name, count in report.decisions.most_common())
        self.stdout.write(f"{'replies':>22}: {met}")
        for reason, count in report.wrong_escalation_reasons.most_common():
            self.stdout.write(f"  in-scope not answered for {reason}: {count}")
        for text, expected, predicted in report.mistakes[:10]:
            self.stdout.write(f"  miss: {text[:70]!r} expected {expected}, got {predicted}")
        if json:
            self.stdout.write(_dumps(summary))


def _dumps(summary: dict) -> str:
    return json.dumps(summary, sort_keys=True)
