"""Receivers of the lower apps' domain signals: each turns a committed change into an event."""

from __future__ import annotations

import logging

from chat.models import Message
from chat.serializers import message_payload
from chat.signals import message_created
from sessions_app import signals as session_signals
from sessions_app.models import SupportSession
from sessions_app.serializers import session_payload

from .models import EventType, WebhookEndpoint
from .services import event_publish

logger = logging.getLogger(__name__)


def _subscribed(event_type: str) -> bool:
    # One cheap query before serializing anything: most events have no subscriber.
    return any(
        event_type in events
        for events in WebhookEndpoint.objects.filter(is_active=True).values_list(
            "events", flat=True
        )
    )


def _session_event(event_type: str, session_id, **extra) -> None:
    if not _subscribed(event_type):
        return
    session = SupportSession.objects.select_related("assignee").filter(pk=session_id).first()
    if session is None:  # deleted since: nothing left to describe
        return
    event_publish(event_type=event_type, data={"session": session_payload(session), **extra})


def on_session_created(sender, session_id, **kwargs) -> None:
    """Publish session.created."""
    _session_event(EventType.SESSION_CREATED, session_id)


def on_session_escalated(sender, session_id, **kwargs) -> None:
    """Publish session.escalated."""
    _session_event(EventType.SESSION_ESCALATED, session_id)


def on_session_assigned(sender, session_id, **kwargs) -> None:
    """Publish session.assigned."""
    _session_event(EventType.SESSION_ASSIGNED, session_id)


def on_session_closed(sender, session_id, **kwargs) -> None:
    """Publish session.closed."""
    _session_event(EventType.SESSION_CLOSED, session_id)


def on_csat_submitted(sender, session_id, csat, comment="", **kwargs) -> None:
    """Publish csat.submitted with the rating and the customer's comment ("" if none)."""
    _session_event(EventType.CSAT_SUBMITTED, session_id, csat=csat, comment=comment)


def on_message_created(sender, message_id, internal=False, **kwargs) -> None:
    """Publish message.created, except for internal notes (staff only, never sent out)."""
    if internal or not _subscribed(EventType.MESSAGE_CREATED):
        return
    message = Message.objects.select_related("author").filter(pk=message_id).first()
    if message is None or message.internal:
        return
    event_publish(event_type=EventType.MESSAGE_CREATED, data={"message": message_payload(message)})


def connect() -> None:
    """Connect every receiver (called once from WebhooksConfig.ready)."""
    pairs = [
        (session_signals.session_created, on_session_created),
        (session_signals.session_escalated, on_session_escalated),
        (session_signals.session_assigned, on_session_assigned),
        (session_signals.session_closed, on_session_closed),
        (session_signals.csat_submitted, on_csat_submitted),
        (message_created, on_message_created),
    ]
    for signal, receiver in pairs:
        signal.connect(receiver, dispatch_uid=f"webhooks.{receiver.__name__}")
