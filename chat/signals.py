"""Signals chat sends, so that higher apps (agents, webhooks) react without chat importing them."""

from django.dispatch import Signal

# Sent after the transaction that stored a customer message commits, with the keyword
# arguments ``message_id``, ``session_id`` and ``awaits_ai`` (True when the session was open
# and handled by the AI at that moment, under its row lock). Receivers run in the sender's
# thread; chat sends it robustly, so a failing receiver is logged and never fails the sender.
customer_message_stored = Signal()

# Sent after the transaction that stored any message commits, with ``message_id``,
# ``session_id``, ``internal`` (a staff-only note) and ``role`` (so receivers interested in one
# role need no query); sessions_app.signals.send_after_commit.
message_created = Signal()

# Sent when an agent's console socket has registered its Connection row (``user_id``): the
# agent is now online for routing, which assigns waiting conversations to them.
agent_connected = Signal()
