"""Celery tasks of notifications: thin, by id, with their own retries."""

from __future__ import annotations

import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)

MAX_RETRIES = 4


def _countdown(retries: int) -> int:
    return min(30 * 2**retries, 600)


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES, soft_time_limit=60, time_limit=75)
def reply_email(self, message_id: str) -> bool:
    """Email an away customer about an agent's reply (debounced per session)."""
    try:
        return services.reply_email_notify(message_id=message_id) is not None
    except Exception as exc:
        if self.request.retries >= MAX_RETRIES:
            logger.error("Reply email for message %s failed for good: %r", message_id, exc)
            return False
        logger.warning("Reply email for message %s failed (%r); retrying", message_id, exc)
        raise self.retry(exc=exc, countdown=_countdown(self.request.retries)) from exc


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES, soft_time_limit=60, time_limit=75)
def transcript_email(self, log_id: int) -> bool:
    """Send the transcript a customer asked for."""
    try:
        return services.transcript_send(log_id=log_id) is not None
    except Exception as exc:
        if self.request.retries >= MAX_RETRIES:
            logger.error("Transcript email %s failed for good: %r", log_id, exc)
            return False
        logger.warning("Transcript email %s failed (%r); retrying", log_id, exc)
        raise self.retry(exc=exc, countdown=_countdown(self.request.retries)) from exc
