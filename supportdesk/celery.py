"""The Celery app: `celery -A supportdesk worker` and `celery -A supportdesk beat`.

Signal handlers here count task failures and retries for /metrics (in the worker process:
with ``PROMETHEUS_MULTIPROC_DIR`` shared with Daphne, the web's /metrics shows them) and
put the task id on every log line a task writes.
"""

import os
from contextvars import Token

from celery import Celery
from celery.signals import task_failure, task_postrun, task_prerun, task_retry

from . import metrics
from .logging import context_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportdesk.settings")

app = Celery("supportdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _task_name(sender) -> str:
    return getattr(sender, "name", None) or str(sender or "unknown")


@task_failure.connect
def count_task_failure(sender=None, **kwargs) -> None:
    """Count a task that failed for good (raised after its own retry policy gave up)."""
    metrics.TASK_FAILURES.labels(task=_task_name(sender)).inc()


@task_retry.connect
def count_task_retry(sender=None, **kwargs) -> None:
    """Count a task that asked to be retried."""
    metrics.TASK_RETRIES.labels(task=_task_name(sender)).inc()


# task id -> context tokens to restore, innermost last: an eager retry re-runs the same task id
# inside the first run. prerun and postrun of one run happen in the same thread.
_context_tokens: dict[str, list[Token]] = {}


@task_prerun.connect
def set_task_log_context(task_id=None, **kwargs) -> None:
    """Make ``task:<id>`` the log context of everything the task logs."""
    if task_id:
        _context_tokens.setdefault(task_id, []).append(context_id.set(f"task:{task_id}"))


@task_postrun.connect
def reset_task_log_context(task_id=None, **kwargs) -> None:
    """Restore the log context the task found (an eager task runs inside a request)."""
    tokens = _context_tokens.get(task_id) if task_id else None
    if not tokens:
        return
    token = tokens.pop()
    if not tokens:
        _context_tokens.pop(task_id, None)
    try:
        context_id.reset(token)
    except ValueError:  # set in another context (should not happen): just clear it
        context_id.set("-")
