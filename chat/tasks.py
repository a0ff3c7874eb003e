"""Celery tasks of chat: the periodic stale-connection sweep and the unattached-upload cleanup."""

from celery import shared_task

from . import attachments, services


@shared_task(acks_late=True, soft_time_limit=20, time_limit=25)
def connections_cleanup_stale() -> int:
    """Remove connections silent longer than CHAT_STALE_AFTER (run by beat every 30 s)."""
    return services.connections_cleanup_stale()


@shared_task(acks_late=True, soft_time_limit=300, time_limit=330)
def attachments_cleanup_unattached() -> int:
    """Delete uploads no message carried within ATTACHMENT_UNATTACHED_HOURS (beat, hourly)."""
    return attachments.attachments_cleanup_unattached()
