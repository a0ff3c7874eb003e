"""Receivers of the lower apps' domain signals: each turns a committed change into an event."""

from __future__ import annotations

import logging
import time
import uuid

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_save

from chat.models import Message
from chat.serializers import message_payload
from chat.signals import message_created
from sessions_app import signals as session_signals
from sessions_app.models import SupportSession
from sessions_app.serializers import session_payload

from .models import EventType, WebhookEndpoint
from .services import event_publish

logger = logging.getLogger(__name__)


# Which event types active endpoints subscribe to, cached per process and checked against a
# version in the shared cache: the endpoints table was read after every stored message (a
# quarter of the message path's time, docs/performance.md). Saving an endpoint (create,
# change, re-enable) bumps the version after commit, so every process re-reads before its
# next event. A stale "subscribed" is harmless (event_publish reads the endpoints itself); a
# lost bump (cache down at that moment) is bounded by the local lifetime.
ENDPOINTS_VERSION_KEY = "webhooks:endpoints-version"
SUBSCRIPTIONS_MAX_AGE = 30.0
# (version, events, loaded at): replaced whole, so readers in other threads see one or the other.
_subscriptions: tuple[str, frozenset[str], float] | None = None


def endpoints_changed() -> None:
    """Tell every process to re-read the endpoints' subscriptions before its next event."""
    cache.set(ENDPOINTS_VERSION_KEY, uuid.uuid4().hex, timeout=None)


def _on_endpoint_saved(sender, **kwargs) -> None:
    transaction.on_commit(endpoints_changed)


def _current_version() -> str | None:
    version = cache.get(ENDPOINTS_VERSION_KEY)
    if version is None:
        fresh = uuid.uuid4().hex
        # Another process may set it first: then its value is the one to compare with.
        version = (
            fresh
            if cache.add(ENDPOINTS_VERSION_KEY, fresh, timeout=None)
            else cache.get(ENDPOINTS_VERSION_KEY)
        )
    return version  # None: the cache is down, read the table every time


def _subscribed(event_type: str) -> bool:
    """Whether any active endpoint wants ``event_type``: checked before serializing anything."""
    global _subscriptions
    version = _current_version()  # before the read: a bump after it forces the next re-read
    known = _subscriptions
    if (
        version is not None
        and known is not None
        and known[0] == version
        and time.monotonic() - known[2] < SUBSCRIPTIONS_MAX_AGE
    ):
        return event_type in known[1]
    events = frozenset(
        event
        for subscribed in WebhookEndpoint.objects.filter(is_active=True).values_list(
            "events", flat=True
        )
        for event in subscribed
    )
    if version is not None:
        _subscriptions = (version, events, time.monotonic())
    return event_type in events


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
    post_save.connect(
        _on_endpoint_saved, sender=WebhookEndpoint, dispatch_uid="webhooks.endpoints_changed"
    )
