"""Celery tasks of webhook deliveries: thin wrappers over webhooks.services."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="webhooks.tasks.delivery_attempt", acks_late=True, ignore_result=True)
def delivery_attempt(delivery_id: str, attempt: int) -> str | None:
    """Make one attempt of a delivery; the service schedules the next one if it fails."""
    return services.delivery_attempt(delivery_id=delivery_id, attempt=attempt)


@shared_task(name="webhooks.tasks.deliveries_resume", ignore_result=True)
def deliveries_resume() -> int:
    """Re-enqueue deliveries whose task was lost (broker outage): run by beat every minute."""
    return services.deliveries_resume()


@shared_task(name="webhooks.tasks.deliveries_prune", ignore_result=True)
def deliveries_prune() -> int:
    """Delete finished deliveries older than WEBHOOK_LOG_RETENTION_DAYS: run by beat daily."""
    return services.deliveries_prune()
