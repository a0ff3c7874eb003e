"""State changes of a support session; every entry point (REST, sockets, admin, tasks) calls these.

Each change locks the session row, writes, adds a timeline system message, and broadcasts a
`session` event to the session's sockets and the agents' inbox only after commit.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from supportdesk import realtime
from supportdesk.metrics import HANDOVERS

from .exceptions import (
    AlreadyAssigned,
    AlreadyRated,
    ContactConflict,
    IdentityInvalid,
    InvalidTransition,
    OriginNotAllowed,
    SessionClosed,
    SessionNotFound,
)
from .identity import identity_verify
from .models import (
    CSAT_COMMENT_MAX_CHARS,
    AgentProfile,
    AgentStatus,
    Contact,
    HandledBy,
    SessionEvent,
    SessionStatus,
    SupportSession,
    Team,
    Website,
    new_identity_secret,
)
from .origins import normalize_origin as website_origin
from .selectors import token_hash, website_by_key
from .serializers import customer_view, session_payload, strip_bidi_controls, user_display_name
from .signals import (
    agent_status_changed,
    csat_submitted,
    send_after_commit,
    session_assigned,
    session_closed,
    session_created,
    session_escalated,
    timeline_note_requested,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OpenedSession:
    session: SupportSession
    token: str  # the customer's secret: returned once, never stored in clear


def session_open(
    *,
    customer_name: str = "",
    customer_email: str = "",
    metadata: dict | None = None,
    website: Website | None = None,
    contact: Contact | None = None,
) -> OpenedSession:
    """Create a session and its customer token."""
    token = secrets.token_urlsafe(32)
    session = SupportSession.objects.create(
        customer_name=customer_name,
        customer_email=customer_email,
        token_hash=token_hash(token),
        metadata=metadata or {},
        website=website,
        contact=contact,
    )
    transaction.on_commit(lambda: _broadcast(session.pk))
    send_after_commit(session_created, session_id=session.pk)
    logger.info("Session %s opened", session.pk)
    return OpenedSession(session=session, token=token)


def _locked(session_id: uuid.UUID | str) -> SupportSession:
    try:
        return SupportSession.objects.select_for_update().get(pk=session_id)
    except SupportSession.DoesNotExist:
        raise SessionNotFound() from None


def _timeline(
    session: SupportSession,
    text: str,
    *,
    event: str,
    actor=None,
    api_key_name: str | None = None,
    internal: bool = False,
) -> None:
    # chat stores the note through its one message path, in this transaction; sessions_app
    # asks through a signal because it must not import chat (chat depends on it). An API
    # key's action has no author (actor=None): the key's name in metadata says who did it.
    metadata = {"event": event, **({"api_key": api_key_name} if api_key_name else {})}
    answered = timeline_note_requested.send(
        sender=SupportSession,
        session=session,
        text=text,
        event=event,
        actor=actor,
        metadata=metadata,
        internal=internal,  # staff-only notes (snooze, wake): the customer never sees them
    )
    if not answered:
        logger.warning("No receiver stored the %s timeline note of session %s", event, session.pk)


def session_audited_values(session: SupportSession) -> dict[str, str]:
    """Return the audited fields of ``session`` as they are shown (names, not ids)."""
    return {
        "status": session.status,
        "assignee": user_display_name(session.assignee) if session.assignee_id else "",
        "team": session.team.name if session.team_id else "",
    }


def actor_label(actor=None, api_key_name: str | None = None) -> str:
    """Return who did something, as the audit trail shows it."""
    if actor is not None:
        return user_display_name(actor)
    return f"API key {api_key_name}" if api_key_name else "System"


def session_events_record(
    *,
    session: SupportSession,
    changes: dict[str, tuple[object, object]],
    actor=None,
    api_key_name: str | None = None,
) -> list[SessionEvent]:
    """Add each changed field (``{field: (old, new)}``) to the session's audit trail.

    Unchanged fields are skipped. Services call it in their own transaction, so a
    rolled-back change leaves no trail.
    """
    name = actor_label(actor, api_key_name)
    rows = [
        SessionEvent(
            session=session,
            field=field,
            old_value=str(old or "")[:200],
            new_value=str(new or "")[:200],
            actor=actor,
            actor_name=name[:200],
        )
        for field, (old, new) in changes.items()
        if (old or "") != (new or "")
    ]
    return SessionEvent.objects.bulk_create(rows)


def _audit(session: SupportSession, before: dict[str, str], *, actor=None, api_key_name=None):
    after = session_audited_values(session)
    session_events_record(
        session=session,
        changes={field: (before[field], after[field]) for field in before},
        actor=actor,
        api_key_name=api_key_name,
    )


def _broadcast(session_id: uuid.UUID) -> None:
    session = (
        SupportSession.objects.select_related("assignee", "contact", "team")
        .prefetch_related("labels")
        .get(pk=session_id)
    )
    staff = session_payload(session)
    # The customer's copy leaves out the triage; agents take only the staff copy (an agent
    # socket that joined the session is in both groups).
    customer_event = {"type": "session.updated", "session": customer_view(staff)}
    staff_event = {"type": "session.updated", "session": staff, "for_staff": True}
    realtime.group_send_many(
        [
            (realtime.session_group(session_id), customer_event),
            (realtime.AGENTS_GROUP, staff_event),
        ]
    )


# Label values of HANDOVERS: the reasons code writes. Staff may type a free reason, which
# must not create a metric series per text, so anything else counts as "other".
_HANDOVER_REASONS = frozenset(
    {
        "low_confidence",
        "no_matching_article",
        "human_requested",
        "customer_upset",
        "repeated_unhelpful",
        "provider_failed",
        "provider_declined",
        "knowledge_index_unavailable",
        "agent_failed",
        "staff_request",
        "admin",
    }
)


def _reason_label(reason: str) -> str:
    first = (reason or "").split(",")[0].strip()
    return first if first in _HANDOVER_REASONS else "other"


@transaction.atomic
def session_escalate(
    *,
    session_id: uuid.UUID | str,
    reason: str,
    actor=None,
    api_key_name: str | None = None,
) -> SupportSession:
    """Hand an open session to the human queue; already escalated is a no-op."""
    session = _locked(session_id)
    if session.status == SessionStatus.CLOSED:
        raise SessionClosed()
    if session.status == SessionStatus.ESCALATED:
        return session
    before = session_audited_values(session)
    session.status = SessionStatus.ESCALATED
    session.escalated_at = timezone.now()
    session.metadata = {**session.metadata, "escalation_reason": reason}
    session.save(update_fields=["status", "escalated_at", "metadata"])
    _audit(session, before, actor=actor, api_key_name=api_key_name)
    _timeline(
        session,
        "Conversation handed to the support team.",
        event="escalated",
        actor=actor,
        api_key_name=api_key_name,
    )
    transaction.on_commit(lambda: _broadcast(session.pk))
    transaction.on_commit(
        lambda: realtime.group_send(
            realtime.AGENTS_GROUP,
            {"type": "session.escalated", "session_id": str(session.pk), "reason": reason},
        )
    )
    # The first reason names the kind of hand-over ("low_confidence, …" → low_confidence).
    transaction.on_commit(lambda: HANDOVERS.labels(_reason_label(reason)).inc())
    send_after_commit(session_escalated, session_id=session.pk)
    logger.info("Session %s escalated: %s", session.pk, reason)
    return session


@transaction.atomic
def session_take_over(
    *, session_id: uuid.UUID | str, user, by_reply: bool = False
) -> SupportSession:
    """Assign the session to ``user`` and stop the AI; a second agent gets AlreadyAssigned.

    ``by_reply``: the agent took it by replying (the console's and REST's rule), which the
    timeline says in its own words.
    """
    session = _locked(session_id)
    if session.status == SessionStatus.CLOSED:
        raise SessionClosed()
    if session.handled_by == HandledBy.HUMAN and session.assignee_id not in (None, user.pk):
        raise AlreadyAssigned()
    if session.handled_by == HandledBy.HUMAN and session.assignee_id == user.pk:
        return session
    before = session_audited_values(session)
    session.handled_by = HandledBy.HUMAN
    session.assignee = user
    session.status = SessionStatus.ESCALATED
    session.escalated_at = session.escalated_at or timezone.now()
    session.save(update_fields=["handled_by", "assignee", "status", "escalated_at"])
    _audit(session, before, actor=user)
    name = user_display_name(user)
    _timeline(
        session,
        f"{name} took the conversation." if by_reply else f"{name} joined the conversation.",
        event="taken_over",
        actor=user,
    )
    transaction.on_commit(lambda: _broadcast(session.pk))
    send_after_commit(session_assigned, session_id=session.pk)
    return session


@transaction.atomic
def session_assign(
    *,
    session_id: uuid.UUID | str,
    assignee,
    actor=None,
    api_key_name: str | None = None,
) -> SupportSession:
    """Give the session to another agent (a human keeps handling it)."""
    session = _locked(session_id)
    if session.status == SessionStatus.CLOSED:
        raise SessionClosed()
    if session.assignee_id == getattr(assignee, "pk", None):
        return session
    before = session_audited_values(session)
    session.assignee = assignee
    session.handled_by = HandledBy.HUMAN
    session.status = SessionStatus.ESCALATED
    session.escalated_at = session.escalated_at or timezone.now()
    session.save(update_fields=["assignee", "handled_by", "status", "escalated_at"])
    _audit(session, before, actor=actor, api_key_name=api_key_name)
    _timeline(
        session,
        f"{user_display_name(assignee)} joined the conversation.",
        event="assigned",
        actor=actor,
        api_key_name=api_key_name,
    )
    transaction.on_commit(lambda: _broadcast(session.pk))
    send_after_commit(session_assigned, session_id=session.pk)
    return session


@transaction.atomic
def session_release(
    *, session_id: uuid.UUID | str, actor=None, api_key_name: str | None = None
) -> SupportSession:
    """Hand the session back to the AI assistant."""
    session = _locked(session_id)
    if session.status == SessionStatus.CLOSED:
        raise SessionClosed()
    if session.status == SessionStatus.OPEN and session.handled_by == HandledBy.AI:
        return session
    before = session_audited_values(session)
    session.status = SessionStatus.OPEN
    session.handled_by = HandledBy.AI
    session.assignee = None
    session.escalated_at = None
    session.save(update_fields=["status", "handled_by", "assignee", "escalated_at"])
    _audit(session, before, actor=actor, api_key_name=api_key_name)
    _timeline(
        session,
        "You're chatting with our assistant again.",
        event="released",
        actor=actor,
        api_key_name=api_key_name,
    )
    transaction.on_commit(lambda: _broadcast(session.pk))
    return session


@transaction.atomic
def session_close(
    *, session_id: uuid.UUID | str, actor=None, api_key_name: str | None = None
) -> SupportSession:
    """Close the session; closing a closed session is a no-op."""
    session = _locked(session_id)
    if session.status == SessionStatus.CLOSED:
        return session
    before = session_audited_values(session)
    # What the close ended, so that a reopen (the console's Undo, a customer writing again)
    # restores it exactly: an escalated session waiting in the queue stays in the queue.
    closed_from = {
        "status": session.status,
        "handled_by": session.handled_by,
        "assignee_id": session.assignee_id,
        "escalated_at": session.escalated_at.isoformat() if session.escalated_at else None,
    }
    session.status = SessionStatus.CLOSED
    session.closed_at = timezone.now()
    session.snoozed_until = None  # a closed conversation has nothing to wake up for
    session.metadata = {**session.metadata, "closed_from": closed_from}
    session.save(update_fields=["status", "closed_at", "snoozed_until", "metadata"])
    _audit(session, before, actor=actor, api_key_name=api_key_name)
    _timeline(
        session,
        "This conversation has been closed. How did we do? Please rate it from 1 to 5.",
        event="closed",
        actor=actor,
        api_key_name=api_key_name,
    )
    transaction.on_commit(lambda: _broadcast(session.pk))
    send_after_commit(session_closed, session_id=session.pk)
    return session


@transaction.atomic
def session_reopen(
    *, session_id: uuid.UUID | str, actor=None, api_key_name: str | None = None
) -> SupportSession:
    """Reopen a closed session as it was before the close; one that is not closed: no-op.

    The close recorded what it ended (``metadata.closed_from``): status, handler, assignee and
    hand-over time come back, so an Undo right after a close changes nothing else. The
    assignee comes back only if they can still sign in as staff, else the session waits in
    the queue. A session closed before that record existed follows the older rule: a person's
    session reopens ``escalated``, the AI's ``open``. A rating already given stays.
    """
    session = _locked(session_id)
    if session.status != SessionStatus.CLOSED:
        return session
    before = session_audited_values(session)
    session.closed_at = None
    closed_from = (
        session.metadata.get("closed_from") if isinstance(session.metadata, dict) else None
    )
    if isinstance(closed_from, dict) and closed_from.get("status") in (
        SessionStatus.OPEN,
        SessionStatus.ESCALATED,
    ):
        session.status = closed_from["status"]
        session.handled_by = closed_from.get("handled_by") or HandledBy.AI
        session.assignee = _staff_or_none(closed_from.get("assignee_id"))
        escalated_at = closed_from.get("escalated_at")
        session.escalated_at = (
            datetime.fromisoformat(escalated_at) if isinstance(escalated_at, str) else None
        )
        if session.handled_by == HandledBy.HUMAN and session.assignee is None:
            session.handled_by = HandledBy.AI  # escalated + ai: waiting in the human queue
    elif session.handled_by == HandledBy.HUMAN:
        session.status = SessionStatus.ESCALATED
        session.escalated_at = timezone.now()
        assignee = session.assignee
        if assignee is None or not (assignee.is_active and assignee.is_staff):
            session.assignee = None
            session.handled_by = HandledBy.AI  # escalated + ai: waiting in the human queue
    else:
        session.status = SessionStatus.OPEN
    session.metadata = {k: v for k, v in session.metadata.items() if k != "closed_from"}
    session.save(
        update_fields=[
            "status",
            "closed_at",
            "escalated_at",
            "assignee",
            "handled_by",
            "metadata",
        ]
    )
    _audit(session, before, actor=actor)
    _timeline(
        session,
        "This conversation has been reopened.",
        event="reopened",
        actor=actor,
        api_key_name=api_key_name,
    )
    transaction.on_commit(lambda: _broadcast(session.pk))
    logger.info("Session %s reopened as %s", session.pk, session.status)
    return session


def _staff_or_none(user_id):
    if user_id is None:
        return None
    return get_user_model().objects.filter(pk=user_id, is_active=True, is_staff=True).first()


@transaction.atomic
def session_reopen_on_customer_reply(*, session_id: uuid.UUID | str) -> SupportSession:
    """Reopen a closed session because its customer wrote again, if within the window.

    Called by chat's message path under the session's lock before it stores the message.
    Beyond SESSION_REOPEN_WITHIN (or with it 0) the conversation stays closed: SessionClosed,
    and the customer starts a new one, as before.
    """
    session = _locked(session_id)
    if session.status != SessionStatus.CLOSED:
        return session
    until = session.reopen_until()  # the rule the customer's page is shown (session payload)
    if until is None or timezone.now() > until:
        raise SessionClosed()
    return session_reopen(session_id=session.pk)


@transaction.atomic
def session_team_set(
    *,
    session_id: uuid.UUID | str,
    team: Team | None,
    actor=None,
    api_key_name: str | None = None,
) -> SupportSession:
    """Put the session in ``team``'s queue (None: the general queue); audited, broadcast."""
    session = _locked(session_id)
    if session.team_id == getattr(team, "pk", None):
        return session
    before = session_audited_values(session)
    session.team = team
    session.save(update_fields=["team"])
    _audit(session, before, actor=actor, api_key_name=api_key_name)
    transaction.on_commit(lambda: _broadcast(session.pk))
    return session


@transaction.atomic
def agent_profile_for(*, user) -> AgentProfile:
    """Return the user's routing profile, created with the defaults on first use."""
    profile, _ = AgentProfile.objects.get_or_create(user=user)
    return profile


@transaction.atomic
def agent_status_set(*, user, status: str) -> AgentProfile:
    """Set the agent online or away; coming back online is announced (queues are drained)."""
    if status not in AgentStatus.values:
        raise InvalidTransition(f"status must be one of {', '.join(AgentStatus.values)}.")
    profile, _ = AgentProfile.objects.select_for_update().get_or_create(user=user)
    if profile.status == status:
        return profile
    profile.status = status
    profile.save(update_fields=["status"])
    send_after_commit(agent_status_changed, user_id=user.pk, status=status)
    logger.info("Agent %s is now %s", user.pk, status)
    return profile


@transaction.atomic
def session_rate(*, session_id: uuid.UUID | str, csat: int, comment: str = "") -> SupportSession:
    """Store the customer's 1–5 rating of a closed session, with an optional comment."""
    if not isinstance(csat, int) or isinstance(csat, bool) or not 1 <= csat <= 5:
        raise InvalidTransition("csat must be an integer from 1 to 5.")
    comment = strip_bidi_controls(comment or "").strip()
    if len(comment) > CSAT_COMMENT_MAX_CHARS or "\x00" in comment:
        raise InvalidTransition(f"comment must be at most {CSAT_COMMENT_MAX_CHARS} characters.")
    session = _locked(session_id)
    if session.status != SessionStatus.CLOSED:
        raise InvalidTransition("A session can be rated once it is closed.")
    if session.csat is not None:
        # Once: a rating is the customer's verdict on a finished conversation, and re-rating
        # without limit would let one customer skew the CSAT figures (and spam csat events).
        raise AlreadyRated()
    session.csat = csat
    session.csat_comment = comment
    session.save(update_fields=["csat", "csat_comment"])
    transaction.on_commit(lambda: _broadcast(session.pk))
    send_after_commit(csat_submitted, session_id=session.pk, csat=csat, comment=comment)
    return session


@transaction.atomic
def session_set_customer_email(*, session_id: uuid.UUID | str, email: str) -> SupportSession:
    """Store the address the customer gave in the chat (to hear of replies while away).

    Kept on the session, not the contact: a contact's email comes from the host site's
    signed-in user or from staff, and a chat visitor must not rewrite it.
    """
    session = _locked(session_id)
    if session.status == SessionStatus.CLOSED:
        raise SessionClosed()
    if session.customer_email != email:
        session.customer_email = email
        session.save(update_fields=["customer_email"])
        transaction.on_commit(lambda: _broadcast(session.pk))
    return session


@transaction.atomic
def session_token_rotate(*, session_id: uuid.UUID | str) -> OpenedSession:
    """Give the session a new customer token (the old one stops working) and return it."""
    session = _locked(session_id)
    token = secrets.token_urlsafe(32)
    session.token_hash = token_hash(token)
    session.save(update_fields=["token_hash"])
    logger.info("Session %s: customer token rotated", session.pk)
    return OpenedSession(session=session, token=token)


# --- Websites, contacts and the widget's session creation ---------------------------------


@transaction.atomic
def website_rotate_identity_secret(*, website_id: int) -> Website:
    """Give the site a new identity secret; hashes signed with the old one stop verifying."""
    website = Website.objects.select_for_update().get(pk=website_id)
    website.identity_secret = new_identity_secret()
    website.save(update_fields=["identity_secret"])
    logger.info("Website %s: identity secret rotated", website.pk)
    return website


@transaction.atomic
def contact_identify(
    *, website: Website, external_id: str, name: str = "", email: str = ""
) -> Contact:
    """Find or create the site's contact for a VERIFIED external id and mark it seen.

    A name or email passed along updates the contact: the host site is the source of truth
    for its signed-in user (the hash signs the id only, so only a verified id gets here).
    """
    try:
        with transaction.atomic():
            contact, _ = Contact.objects.select_for_update().get_or_create(
                website=website, external_id=external_id
            )
    except IntegrityError:
        # Two first visits of one user at once: the other request created the row.
        contact = Contact.objects.select_for_update().get(website=website, external_id=external_id)
    changed = ["last_seen_at"]
    contact.last_seen_at = timezone.now()
    if name and name != contact.name:
        contact.name = name
        changed.append("name")
    if email and email != contact.email:
        contact.email = email
        changed.append("email")
    contact.save(update_fields=changed)
    return contact


@transaction.atomic
def contact_create(
    *,
    website: Website | None = None,
    external_id: str = "",
    name: str = "",
    email: str = "",
    attributes: dict | None = None,
) -> Contact:
    """Create a contact (REST, admin); a taken external id raises ContactConflict."""
    try:
        with transaction.atomic():
            return Contact.objects.create(
                website=website,
                external_id=external_id,
                name=name,
                email=email,
                attributes=attributes or {},
            )
    except IntegrityError:
        raise ContactConflict() from None


@transaction.atomic
def contact_update(*, contact_id: uuid.UUID | str, **fields) -> Contact:
    """Change a contact's name, email, external_id, website or attributes."""
    contact = Contact.objects.select_for_update().get(pk=contact_id)
    allowed = {"website", "external_id", "name", "email", "attributes"}
    for field, value in fields.items():
        if field not in allowed:
            raise TypeError(f"contact_update() got an unexpected field {field!r}")
        setattr(contact, field, value)
    try:
        with transaction.atomic():
            contact.save(update_fields=list(fields) or None)
    except IntegrityError:
        raise ContactConflict() from None
    return contact


@transaction.atomic
def contact_delete(*, contact_id: uuid.UUID | str) -> None:
    """Delete a contact; its sessions stay, without a contact."""
    Contact.objects.filter(pk=contact_id).delete()


MAX_PAGE_URL_CHARS = 2000
MAX_USER_AGENT_CHARS = 500


@transaction.atomic
def widget_session_open(
    *,
    site_key: str,
    page_origin: str,
    page_url: str = "",
    user_agent: str = "",
    user_id: str = "",
    user_hash: str = "",
    customer_name: str = "",
    customer_email: str = "",
) -> OpenedSession:
    """Open a session for the widget of ``site_key`` embedded on ``page_origin``.

    Refuses an unknown site (UnknownSite), an origin the site does not list
    (OriginNotAllowed), and an unsigned or wrongly signed user id (IdentityHashMissing,
    IdentityInvalid): such an id is neither trusted nor stored. A verified id finds or
    creates the site's Contact. The page URL (if on that origin) and user agent are kept
    in the session's metadata.
    """
    website = website_by_key(site_key=site_key)
    if not website.allows_origin(page_origin):
        raise OriginNotAllowed()
    contact = None
    if user_id:
        identity_verify(website=website, user_id=user_id, user_hash=user_hash)
        contact = contact_identify(
            website=website, external_id=user_id, name=customer_name, email=customer_email
        )
    elif user_hash:
        raise IdentityInvalid("user_hash was given without user_id.")
    metadata = {"source": "widget", "page_origin": website_origin(page_origin)}
    # A URL of another origin would be the client's invention: keep only one on the page's.
    if page_url and page_url.startswith(metadata["page_origin"] + "/"):
        metadata["page_url"] = page_url[:MAX_PAGE_URL_CHARS]
    if user_agent:
        metadata["user_agent"] = user_agent[:MAX_USER_AGENT_CHARS]
    return session_open(
        customer_name=customer_name,
        customer_email=customer_email,
        metadata=metadata,
        website=website,
        contact=contact,
    )
