"""Measure the agent on labelled questions through the same pipeline that answers customers."""

from __future__ import annotations

import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from chat.models import MessageRole
from chat.services import message_create
from sessions_app.services import session_open

from .kb_io import kb_import
from .models import Article, ArticleExample, KnowledgeIndexSnapshot
from .services import reply_generate

ESCALATE = "escalate"


@dataclass
class EvaluationReport:
    n: int = 0
    in_scope: int = 0
    in_scope_correct: int = 0
    out_of_scope: int = 0
    oos_escalated: int = 0
    # Out-of-scope questions whose reply handed the session to the human queue (a clarifying
    # question or a polite decline keeps it with the AI): what a person would have to read.
    oos_to_human: int = 0
    # How each question was met (agents.decision: answer, clarify, decline, handover, …).
    decisions: Counter = field(default_factory=Counter)
    timings_ms: list[float] = field(default_factory=list)
    # The pipeline's own compute per reply (memory, search, policy, provider), no DB writes.
    compute_ms: list[float] = field(default_factory=list)
    mistakes: list[tuple[str, str, str]] = field(default_factory=list)
    # Why in-scope questions were handed over, by reason: where the policy costs accuracy.
    wrong_escalation_reasons: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        correct = self.in_scope_correct + self.oos_escalated
        return {
            "n": self.n,
            "in_scope_accuracy": round(self.in_scope_correct / self.in_scope, 4)
            if self.in_scope
            else None,
            "oos_recall": round(self.oos_escalated / self.out_of_scope, 4)
            if self.out_of_scope
            else None,
            "overall_accuracy": round(correct / self.n, 4) if self.n else None,
            "oos_to_human_share": round(self.oos_to_human / self.out_of_scope, 4)
            if self.out_of_scope
            else None,
            "mean_ms_per_question": round(statistics.fmean(self.timings_ms), 2)
            if self.timings_ms
            else None,
            "p50_ms_per_question": round(statistics.median(self.timings_ms), 2)
            if self.timings_ms
            else None,
            "p50_reply_compute_ms": round(statistics.median(self.compute_ms), 2)
            if self.compute_ms
            else None,
        }


class _Rollback(Exception):
    pass


def evaluate_agent(
    *, articles: Path, examples: Path | None, questions: list[tuple[str, str]]
) -> EvaluationReport:
    """Load a fresh knowledge base, ask every question in its own session, then roll back.

    The prediction is ``escalate`` when the agent does not answer from an article (it hands
    over, asks a clarifying question or declines), else the slug of its top cited article.
    ``oos_to_human`` counts the out-of-scope questions that reached the human queue. Nothing
    of the run (articles, sessions, messages) is kept.
    """
    report = EvaluationReport()
    try:
        with transaction.atomic():
            ArticleExample.objects.all().delete()
            Article.objects.all().delete()
            KnowledgeIndexSnapshot.objects.all().delete()
            imported = kb_import(
                articles_file=articles, examples_files=[examples] if examples else []
            )
            # An article whose file slug is not a valid slug is stored under a cleaned one;
            # predictions are mapped back so that it is still compared with the file's label.
            original_slug = {stored: orig for orig, stored in imported.renamed_slugs.items()}
            for text, expected in questions:
                session = session_open(metadata={"evaluation": True}).session
                question = message_create(
                    session_id=session.pk, role=MessageRole.CUSTOMER, content=text
                ).message
                started = time.perf_counter()
                reply = reply_generate(message_id=question.pk)
                report.timings_ms.append((time.perf_counter() - started) * 1000)
                if reply is not None and "compute_ms" in reply.metadata:
                    report.compute_ms.append(reply.metadata["compute_ms"])
                if reply is None or reply.requires_escalation or not reply.sources:
                    predicted = ESCALATE
                else:
                    slug = reply.sources[0].get("slug", "")
                    predicted = original_slug.get(slug, slug)
                report.n += 1
                if reply is not None:
                    report.decisions[reply.metadata.get("decision", "?")] += 1
                if expected == ESCALATE:
                    report.out_of_scope += 1
                    report.oos_escalated += predicted == ESCALATE
                    report.oos_to_human += reply is None or reply.requires_escalation
                else:
                    report.in_scope += 1
                    report.in_scope_correct += predicted == expected
                if predicted != expected:
                    report.mistakes.append((text, expected, predicted))
                    if predicted == ESCALATE and reply is not None:
                        report.wrong_escalation_reasons.update(reply.metadata.get("reasons", []))
            raise _Rollback
    except _Rollback:
        pass
    return report
