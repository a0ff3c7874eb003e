"""Celery tasks of teams: the periodic queue drain (the safety net of event-driven routing)."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, soft_time_limit=20, time_limit=25)
def queue_drain() -> int:
    """Assign waiting conversations to agents freed by a release or reassignment (beat)."""
    return services.queue_drain()
