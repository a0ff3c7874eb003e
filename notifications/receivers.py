"""Receivers of the lower apps' domain signals: the hand-over message and the reply email."""

from __future__ import annotations

import logging

from chat.models import MessageRole
from chat.signals import message_created
from sessions_app import signals as session_signals

from . import services

logger = logging.getLogger(__name__)


def on_session_escalated(sender, session_id, **kwargs) -> None:
    """After a hand-over: tell the customer who will answer and roughly when."""
    services.expectation_post(session_id=session_id)


def on_message_created(sender, message_id, internal=False, role=None, **kwargs) -> None:
    """An agent's public reply: queue the away check and email (the task decides)."""
    if internal or role != MessageRole.AGENT:
        return
    from .tasks import reply_email

    try:
        reply_email.delay(str(message_id))
    except Exception as error:
        # A broker outage must not fail the agent's reply, which is stored and delivered.
        logger.warning("Could not queue the reply email for message %s: %r", message_id, error)


def connect() -> None:
    """Connect the receivers (once, from NotificationsConfig.ready)."""
    session_signals.session_escalated.connect(
        on_session_escalated, dispatch_uid="notifications.on_session_escalated"
    )
    message_created.connect(on_message_created, dispatch_uid="notifications.on_message_created")
