"""Celery tasks of sessions_app: the periodic wake-up of snoozed conversations."""

from celery import shared_task

from . import triage


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def snoozed_wake() -> int:
    """Wake snoozed sessions whose time has come (beat, every SNOOZE_SWEEP_INTERVAL s)."""
    return triage.snoozed_wake_due()
