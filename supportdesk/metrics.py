"""Prometheus metrics of every process (web, worker), defined once; served at /metrics.

Counters and histograms live here so that consumers, services and tasks only call
``.inc()``/``.observe()``. With ``PROMETHEUS_MULTIPROC_DIR`` set (the same directory for the
Daphne processes and Celery workers of one machine), /metrics adds up every process's values.
"""

from __future__ import annotations

import os

from prometheus_client import Counter, Histogram

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Each process writes its values to files there; a missing directory would fail the
    # first .inc(). Emptying it belongs to whoever starts the processes (scripts/up.sh).
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

MESSAGES = Counter("supportdesk_messages_total", "Messages stored, by role.", ["role"])
AGENT_REPLY_SECONDS = Histogram(
    "supportdesk_agent_reply_seconds",
    "Time from a customer message being stored to the AI's reply being stored.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
HANDOVERS = Counter(
    "supportdesk_handovers_total", "Sessions handed to the human queue, by reason.", ["reason"]
)
TASK_FAILURES = Counter(
    "supportdesk_celery_task_failures_total", "Celery tasks that failed, by task.", ["task"]
)
TASK_RETRIES = Counter(
    "supportdesk_celery_task_retries_total", "Celery task retries, by task.", ["task"]
)
WS_ERRORS = Counter(
    "supportdesk_ws_errors_total", "WebSocket error frames sent, by error code.", ["code"]
)
WS_CLOSES = Counter(
    "supportdesk_ws_closes_total",
    "WebSocket closes initiated by the server, by close code.",
    ["code"],
)
RATE_LIMIT_HITS = Counter(
    "supportdesk_rate_limit_hits_total",
    "Requests or frames refused by a rate limit, by scope.",
    ["scope"],
)
UNANSWERED_SWEPT = Counter(
    "supportdesk_unanswered_swept_total",
    "Customer messages nobody answered, found by the sweep, by what was done.",
    ["action"],
)
WEBHOOK_DELIVERIES = Counter(
    "supportdesk_webhook_attempts_total",
    "Webhook delivery attempts, by outcome (succeeded, retried, gave_up, gone, refused).",
    ["outcome"],
)
