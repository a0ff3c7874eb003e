"""Signals of the session lifecycle: hooks higher apps fulfil, and domain events they react to.

sessions_app never imports the apps above it (chat, agents, webhooks); it asks and announces
through these.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

# Sent inside a lifecycle change's transaction with ``session`` (locked), ``text``, ``event``,
# ``actor`` and ``metadata``: the receiver (chat, through its one message path) stores the
# timeline note in that same transaction. A receiver's error propagates and rolls the change back.
timeline_note_requested = Signal()

# Domain events, each sent with ``session_id`` (``csat`` and ``comment`` for csat_submitted)
# once the transaction that made the change has committed: a rolled-back change sends nothing.
session_created = Signal()
session_escalated = Signal()
session_assigned = Signal()
session_closed = Signal()
csat_submitted = Signal()
# An agent set themself online or away (``user_id``, ``status``), after commit: routing
# assigns waiting conversations to an agent who comes back.
agent_status_changed = Signal()


def send_after_commit(signal: Signal, **kwargs) -> None:
    """Send ``signal`` once the current transaction commits; a failing receiver is only logged.

    A receiver's error must never fail (or undo) the change that was already committed.
    """

    def send() -> None:
        for receiver, result in signal.send_robust(sender=None, **kwargs):
            if isinstance(result, Exception):
                logger.warning("Receiver %r of a domain event failed: %r", receiver, result)

    transaction.on_commit(send)
