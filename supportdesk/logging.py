"""Logging context: every line of a request, socket or Celery task carries its id.

``context_id`` holds ``req:<X-Request-ID>`` (set by the request middleware), ``ws:<id>``
(the WebSocket consumers) or ``task:<task id>`` (Celery's task_prerun, see
``supportdesk.celery``). ``LOG_FORMAT=json`` renders each record with ``JsonFormatter``.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

context_id: ContextVar[str] = ContextVar("context_id", default="-")

# How a context id's prefix is spelled as its own JSON key.
_CONTEXT_KEYS = {"req": "request_id", "ws": "connection_id", "task": "task_id"}


class RecoveredFaultFilter(logging.Filter):
    """Log a fault the app survives as one WARNING line, not an ERROR with a traceback.

    django-redis reports each cache call it ignored during a Redis outage with
    ``logger.exception`` (ERROR); the request was served without the cache, so for an
    operator that is a recovered fault (CONVENTIONS: WARNING), and /health/ready says why.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            if record.exc_info and record.exc_info[1] is not None:
                record.msg = f"{record.getMessage()}: {record.exc_info[1]!r}"
                record.args = ()
            record.exc_info = record.exc_text = None
        return True


class ContextFilter(logging.Filter):
    """Attach the current request/connection/task id to each record as ``context_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "context_id"):
            current = context_id.get()
            # django.request logs a 4xx/5xx after the middleware has left; its record carries
            # the request itself, and with it the request id.
            request_id = getattr(getattr(record, "request", None), "request_id", None)
            record.context_id = f"req:{request_id}" if current == "-" and request_id else current
        return True


class JsonFormatter(_BaseJsonFormatter):
    """One JSON object per line: time, level, logger, message, context and its typed id.

    ``{"time": "2026-…Z", "level": "WARNING", "logger": "chat.consumers", "message": "…",
    "context": "req:3f…", "request_id": "3f…"}``; a ``connection_id`` or ``task_id`` instead
    for sockets and tasks; ``exc_info`` holds the traceback; ``extra={…}`` keys are added.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("timestamp", "time")
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        super().__init__("%(levelname)s %(name)s %(message)s", *args, **kwargs)

    def add_fields(self, log_data: dict, record: logging.LogRecord, message_dict: dict) -> None:
        """Add the standard fields, then the context id split into its typed key."""
        super().add_fields(log_data, record, message_dict)
        request = log_data.get("request")
        if hasattr(request, "method") and hasattr(request, "path"):
            log_data["request"] = f"{request.method} {request.path}"  # not the object's repr
        context = log_data.pop("context_id", None) or getattr(record, "context_id", "-")
        log_data["context"] = context
        prefix, _, value = str(context).partition(":")
        key = _CONTEXT_KEYS.get(prefix)
        if key and value:
            log_data[key] = value
