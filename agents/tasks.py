"""Celery tasks of the agent: answer a customer message, rebuild the knowledge index."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from . import services
from .knowledge import index_rebuild

logger = logging.getLogger(__name__)

MAX_RETRIES = 3


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
    # Both far below the broker's visibility_timeout (3600 s): a slow reply is never
    # redelivered to a second worker while the first is still on it.
    soft_time_limit=45,
    time_limit=60,
)
def agent_reply(self, message_id: str) -> None:
    """Generate the AI's reply to one customer message."""
    try:
        services.reply_generate(message_id=message_id)
    except Exception as exc:
        if isinstance(exc, SoftTimeLimitExceeded) or self.request.retries >= MAX_RETRIES:
            services.reply_fail(message_id=message_id, error=repr(exc))
            return
        countdown = min(2**self.request.retries, 10)
        logger.warning("Agent reply to %s failed (%r); retry in %s s", message_id, exc, countdown)
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task(acks_late=True, soft_time_limit=45, time_limit=60)
def agent_reply_while_waiting(message_id: str) -> None:
    """Answer a simple question while the customer waits for a person (best effort, no retry:
    the person who is coming answers anyway)."""
    services.reply_while_waiting_generate(message_id=message_id)


# Banking77 (6,262 examples) builds in about two minutes on an idle 2-core machine; the
# limits leave room for a slower, busier one and stay below the broker's visibility_timeout.
@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def kb_rebuild_index() -> int:
    """Rebuild the knowledge-base search index; returns the snapshot id."""
    return index_rebuild().pk


# Beat runs it every AGENT_SWEEP_INTERVAL seconds (its entry expires runs that queued up
# while no worker was there, so they do not run back to back).
@shared_task(acks_late=True, soft_time_limit=30, time_limit=40)
def unanswered_sweep() -> dict:
    """Re-enqueue (or fail over) customer messages nobody answered in time."""
    result = services.unanswered_sweep()
    return {"requeued": result.requeued, "failed": result.failed}
