"""Celery tasks of chat: the periodic stale-connection sweep."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, soft_time_limit=20, time_limit=25)
def connections_cleanup_stale() -> int:
    """Remove connections silent longer than CHAT_STALE_AFTER (run by beat every 30 s)."""
    return services.connections_cleanup_stale()
