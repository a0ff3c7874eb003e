"""Hooks sessions_app asks higher apps to fulfil, so that it never imports them."""

from django.dispatch import Signal

# Sent inside a lifecycle change's transaction with ``session`` (locked), ``text``, ``event``,
# ``actor`` and ``metadata``: the receiver (chat, through its one message path) stores the
# timeline note in that same transaction. A receiver's error propagates and rolls the change back.
timeline_note_requested = Signal()
