"""Logging context: every line of a request or socket carries its request/connection id."""

from __future__ import annotations

import logging
from contextvars import ContextVar

context_id: ContextVar[str] = ContextVar("context_id", default="-")


class ContextFilter(logging.Filter):
    """Attach the current request/connection id to each record as ``context_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "context_id"):
            record.context_id = context_id.get()
        return True
