"""Measure agents.retrieval on a knowledge base plus labelled questions and print the metrics."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.encoder import SentenceEncoder  # noqa: E402 - path set up above
from agents.kb_files import read_articles, read_examples, read_questions  # noqa: E402 - path set up above
from agents.retrieval import (  # noqa: E402 - path set up above
    KnowledgeDocument,
    KnowledgeIndex,
    default_confidence_threshold,
)

ESCALATE = "escalate"


def load_documents(articles: Path, examples: Path | None) -> list[KnowledgeDocument]:
    """Read articles.jsonl and attach the example questions of kb_examples.csv, as kb_import
    stores them (cleaned, each text once per article), keyed by the file's slugs."""
    by_slug: dict[str, dict[str, None]] = defaultdict(dict)
    for text, slug in read_examples(examples) if examples is not None else ():
        by_slug[slug].setdefault(text)
    return [
        KnowledgeDocument(
            key=a["slug"],
            title=a["title"],
            body=a["body"],
            tags=tuple(a["tags"]),
            examples=tuple(by_slug.get(a["slug"], ())),
        )
        for a in read_articles(articles)
    ]


def metrics(rows: list[tuple[str, float, str]], threshold: float) -> dict[str, float]:
    """Score (top_key, top_score, expected) rows at one threshold."""
    ins = oos = ins_ok = oos_ok = 0
    for key, score, expected in rows:
        pred = key if key and score >= threshold else ESCALATE
        if expected == ESCALATE:
            oos += 1
            oos_ok += pred == ESCALATE
        else:
            ins += 1
            ins_ok += pred == expected
    return {
        "in_scope_accuracy": ins_ok / ins if ins else float("nan"),
        "oos_recall": oos_ok / oos if oos else float("nan"),
        "overall_accuracy": (ins_ok + oos_ok) / len(rows) if rows else float("nan"),
        "n": len(rows),
    }


def main() -> None:
    """Build the index, run every question, print metrics (and a sweep if asked)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=Path, required=True)
    parser.add_argument("--examples", type=Path, default=None)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument(
        "--threshold",
        type=float,
        nargs="*",
        default=None,
        help="one or more thresholds to report (default: the module's)",
    )
    parser.add_argument("--sweep", action="store_true", help="also sweep thresholds 0.05..0.95")
    parser.add_argument(
        "--encoder",
        choices=("minilm", "none"),
        default="minilm",
        help="sentence encoder, as AGENT_ENCODER (default: minilm)",
    )
    args = parser.parse_args()

    encoder = SentenceEncoder() if args.encoder == "minilm" else None
    docs = load_documents(args.articles, args.examples)
    t0 = time.perf_counter()
    index = KnowledgeIndex.build(docs, encoder=encoder)
    build_s = time.perf_counter() - t0
    blob = index.dumps()
    index = KnowledgeIndex.loads(blob, encoder=encoder)

    questions = read_questions(args.questions)
    rows: list[tuple[str, float, str]] = []
    latencies = []
    for text, expected in questions:
        t = time.perf_counter()
        hits = index.search(text, limit=3)
        latencies.append((time.perf_counter() - t) * 1000)
        rows.append((hits[0].key, hits[0].score, expected) if hits else ("", 0.0, expected))

    lat = np.asarray(latencies)
    print(f"documents={len(index)} build_s={build_s:.1f} snapshot_kb={len(blob) / 1024:.0f}")
    print(
        f"search_ms p50={np.percentile(lat, 50):.2f} p95={np.percentile(lat, 95):.2f} "
        f"mean={statistics.fmean(latencies):.2f}"
    )
    in_rows = [r for r in rows if r[2] != ESCALATE]
    if in_rows:
        top1 = sum(r[0] == r[2] for r in in_rows) / len(in_rows)
        print(f"in_scope_top1_without_escalation={top1:.4f}")
    thresholds = args.threshold or [default_confidence_threshold(with_encoder=bool(encoder))]
    if args.sweep:
        thresholds = sorted(set(thresholds) | {round(x, 3) for x in np.arange(0.05, 0.951, 0.025)})
    for th in thresholds:
        m = metrics(rows, th)
        print(
            f"threshold={th:.3f} overall_accuracy={m['overall_accuracy']:.4f} "
            f"in_scope_accuracy={m['in_scope_accuracy']:.4f} "
            f"oos_recall={m['oos_recall']:.4f} n={m['n']}"
        )


if __name__ == "__main__":
    main()
