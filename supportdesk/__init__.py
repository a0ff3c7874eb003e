"""supportdesk project package; exposes the Celery app so `celery -A supportdesk` finds it."""

from .celery import app as celery_app

__all__ = ("celery_app",)
