"""Triage services of a session (issue 13): priority, labels and snooze; and the label catalogue.

Kept apart from services.py (the status machine) because none of these change the status:
DESIGN's open → escalated → closed keeps its meaning. Each change locks the session row and
broadcasts a `session` event after commit, like every lifecycle change.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from .exceptions import InvalidSnooze, LabelNotFound, LabelTaken, SessionClosed, SessionError
from .models import Label, Priority, SessionStatus, SupportSession
from .services import _broadcast, _locked, _timeline, session_events_record

logger = logging.getLogger(__name__)

# The longest snooze: beyond that a conversation is better closed (and reopened by a reply).
SNOOZE_MAX = timedelta(days=90)
# Labels one session may carry, and the catalogue's size: explicit limits, bounded queries.
MAX_LABELS_PER_SESSION = 20
MAX_LABELS = 500
# How many due sessions one sweep wakes; the next run takes the rest.
WAKE_BATCH = 200


class UnknownLabels(SessionError):
    code = "invalid_field"
    detail = "Unknown label."


class TooManyLabels(SessionError):
    code = "invalid_field"
    detail = f"At most {MAX_LABELS} labels."


# --- The label catalogue ------------------------------------------------------------------


def labels_list() -> QuerySet:
    """Return every label, by name."""
    return Label.objects.order_by(Lower("name"))


def label_get(*, label_id: int) -> Label:
    """Return one label or raise LabelNotFound."""
    try:
        return Label.objects.get(pk=label_id)
    except Label.DoesNotExist:
        raise LabelNotFound() from None


def _label_save(label: Label, **kwargs) -> None:
    try:
        with transaction.atomic():
            label.save(**kwargs)
    except IntegrityError:
        raise LabelTaken() from None


@transaction.atomic
def label_create(*, name: str, color: str = "#64748b", description: str = "") -> Label:
    """Create a label; a name in use (any case) raises LabelTaken."""
    if Label.objects.filter(name__iexact=name).exists():
        raise LabelTaken()
    if Label.objects.count() >= MAX_LABELS:
        raise TooManyLabels()
    label = Label(name=name, color=color, description=description)
    _label_save(label)
    return label


@transaction.atomic
def label_update(*, label: Label, **fields) -> Label:
    """Rename or recolour a label (its sessions keep it)."""
    changes = {k: v for k, v in fields.items() if k in {"name", "color", "description"}}
    name = changes.get("name")
    if name and Label.objects.filter(name__iexact=name).exclude(pk=label.pk).exists():
        raise LabelTaken()
    for field, value in changes.items():
        setattr(label, field, value)
    if changes:
        _label_save(label, update_fields=list(changes))
    return label


@transaction.atomic
def label_delete(*, label: Label) -> None:
    """Delete a label; it disappears from every session and macro that had it."""
    session_ids = list(label.sessions.values_list("pk", flat=True)[:1000])
    label.delete()
    for session_id in session_ids:
        transaction.on_commit(lambda sid=session_id: _broadcast(sid))


def labels_by_names(names: list[str]) -> list[Label]:
    """Return the labels with these names (any case), or raise UnknownLabels naming the rest."""
    wanted = {name.strip().lower(): name for name in names if name.strip()}
    found = list(Label.objects.annotate(lname=Lower("name")).filter(lname__in=list(wanted)))
    missing = set(wanted) - {label.name.lower() for label in found}
    if missing:
        raise UnknownLabels("Unknown label(s): " + ", ".join(sorted(wanted[m] for m in missing)))
    return found


# --- Priority and labels of a session -----------------------------------------------------


@transaction.atomic
def session_set_priority(
    *, session_id: uuid.UUID | str, priority: str, actor=None, api_key_name: str | None = None
) -> SupportSession:
    """Set the session's priority (none, low, high, urgent); the same value is a no-op."""
    if priority not in Priority.values:
        raise SessionError(f"priority must be one of {', '.join(Priority.values)}.")
    session = _locked(session_id)
    if session.priority == priority:
        return session
    old = session.priority
    session.priority = priority
    session.save(update_fields=["priority"])
    session_events_record(
        session=session,
        changes={"priority": (old, priority)},
        actor=actor,
        api_key_name=api_key_name,
    )
    transaction.on_commit(lambda: _broadcast(session.pk))
    return session


@transaction.atomic
def session_set_labels(
    *,
    session_id: uuid.UUID | str,
    labels: list[Label],
    actor=None,
    api_key_name: str | None = None,
) -> SupportSession:
    """Replace the session's labels with ``labels``."""
    if len(labels) > MAX_LABELS_PER_SESSION:
        raise SessionError(f"At most {MAX_LABELS_PER_SESSION} labels per conversation.")
    session = _locked(session_id)
    current = list(session.labels.all())
    if {label.pk for label in current} != {label.pk for label in labels}:
        session.labels.set(labels)
        _labels_audit(session, current, labels, actor=actor, api_key_name=api_key_name)
        transaction.on_commit(lambda: _broadcast(session.pk))
    return session


@transaction.atomic
def session_add_labels(
    *,
    session_id: uuid.UUID | str,
    labels: list[Label],
    actor=None,
    api_key_name: str | None = None,
) -> SupportSession:
    """Add ``labels`` to the session's (a macro's labels add, they never remove)."""
    session = _locked(session_id)
    current = list(session.labels.all())
    have = {label.pk for label in current}
    new = [label for label in labels if label.pk not in have]
    if len(have) + len(new) > MAX_LABELS_PER_SESSION:
        raise SessionError(f"At most {MAX_LABELS_PER_SESSION} labels per conversation.")
    if new:
        session.labels.add(*new)
        _labels_audit(session, current, current + new, actor=actor, api_key_name=api_key_name)
        transaction.on_commit(lambda: _broadcast(session.pk))
    return session


def _labels_audit(session, old: list[Label], new: list[Label], **who) -> None:
    """Write the labels' change to the audit trail, as sorted, comma-separated names."""

    def names(labels: list[Label]) -> str:
        return ", ".join(sorted(label.name for label in labels))

    session_events_record(session=session, changes={"labels": (names(old), names(new))}, **who)


# --- Snooze ---------------------------------------------------------------------------------


def _when(value: datetime | None) -> str:
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if value else ""


@transaction.atomic
def session_snooze(*, session_id: uuid.UUID | str, until: datetime, actor=None) -> SupportSession:
    """Take the session out of the inbox until ``until`` (or until the customer writes).

    The status does not change (an escalated session is still waiting for a person when it
    wakes); a closed session cannot be snoozed (SessionClosed).
    """
    now = timezone.now()
    if timezone.is_naive(until) or until <= now or until - now > SNOOZE_MAX:
        raise InvalidSnooze()
    session = _locked(session_id)
    if session.status == SessionStatus.CLOSED:
        raise SessionClosed()
    old = session.snoozed_until
    session.snoozed_until = until
    session.save(update_fields=["snoozed_until"])
    session_events_record(
        session=session,
        changes={"snoozed_until": (_when(old), _when(until))},
        actor=actor,
    )
    _timeline(
        session,
        f"Snoozed until {until.astimezone(UTC):%Y-%m-%d %H:%M} UTC.",
        event="snoozed",
        actor=actor,
        internal=True,
    )
    transaction.on_commit(lambda: _broadcast(session.pk))
    return session


@transaction.atomic
def session_wake(*, session_id: uuid.UUID | str, reason: str, actor=None) -> SupportSession:
    """End the session's snooze now (``reason``: "time", "customer" or "staff"); else no-op."""
    session = _locked(session_id)
    if session.snoozed_until is None:
        return session
    old = session.snoozed_until
    session.snoozed_until = None
    session.save(update_fields=["snoozed_until"])
    session_events_record(session=session, changes={"snoozed_until": (_when(old), "")}, actor=actor)
    text = {
        "time": "Snooze ended: back in the inbox.",
        "customer": "The customer wrote: back in the inbox.",
    }.get(reason, "Snooze cancelled.")
    _timeline(session, text, event="woken", actor=actor, internal=True)
    transaction.on_commit(lambda: _broadcast(session.pk))
    logger.info("Session %s woken (%s)", session.pk, reason)
    return session


def snoozed_wake_due(*, now: datetime | None = None) -> int:
    """Wake every snoozed session whose time has come (beat runs this); return how many.

    Each session is woken in its own transaction, so one failure never holds back the rest.
    """
    now = now or timezone.now()
    due = list(
        SupportSession.objects.filter(snoozed_until__lte=now)
        .order_by("snoozed_until")
        .values_list("pk", flat=True)[:WAKE_BATCH]
    )
    woken = 0
    for session_id in due:
        try:
            session_wake(session_id=session_id, reason="time")
            woken += 1
        except Exception:
            logger.exception("Could not wake snoozed session %s", session_id)
    return woken
