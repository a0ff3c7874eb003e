"""Notification services: the expected-reply message, reply emails, transcripts, resume links."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core import signing
from django.db import transaction
from django.utils import timezone

from chat.models import Message, MessageRole
from chat.services import message_create
from sessions_app.models import SessionStatus, SupportSession
from sessions_app.services import OpenedSession, session_token_rotate
from supportdesk.conf import app_setting
from supportdesk.officehours import office_hours_parse

from . import emails, selectors
from .exceptions import EmailRequired, ResumeLinkInvalid, SessionNotClosed, TranscriptRecentlySent
from .models import EmailKind, EmailLog, EmailStatus, ResumeLink

logger = logging.getLogger(__name__)

RESUME_SALT = "supportdesk.notifications.resume"
# The fragment key the chat page reads: /#resume=<signed link>.
RESUME_FRAGMENT = "resume"


# --- "Who will answer, and roughly when" ---------------------------------------------------


def duration_words(seconds: float) -> str:
    """Return a rough, friendly duration: "under a minute", "about 5 minutes", "about 2 hours"."""
    if seconds < 60:
        return "under a minute"
    minutes = round(seconds / 60)
    if minutes < 90:
        return "about a minute" if minutes == 1 else f"about {minutes} minutes"
    hours = round(seconds / 3600)
    if hours < 36:
        return "about an hour" if hours == 1 else f"about {hours} hours"
    days = round(seconds / 86400)
    return f"about {days} days"


@dataclass(frozen=True)
class ReplyExpectation:
    text: str
    office_open: bool
    typical_seconds: float | None


def reply_expectation(*, now: datetime | None = None) -> ReplyExpectation:
    """Return what to tell a customer just handed to the team (office hours, typical wait)."""
    now = now or timezone.now()
    hours = office_hours_parse(
        str(app_setting("SUPPORT_OFFICE_HOURS")), str(app_setting("SUPPORT_TIMEZONE"))
    )
    if not hours.is_open(now):
        opening = hours.next_opening(now)
        back = f", from {opening:%A %H:%M}" if opening else ""
        return ReplyExpectation(
            text=(
                f"We're outside office hours ({hours.describe()}); we'll reply when we're "
                f"back{back}. You can leave this page: the conversation stays here."
            ),
            office_open=False,
            typical_seconds=None,
        )
    typical = selectors.typical_reply_seconds(now=now)
    if typical is None:
        text = "A member of our support team will answer you here as soon as they can."
    else:
        text = (
            "A member of our support team will answer you here. "
            f"The team typically replies in {duration_words(typical)}."
        )
    return ReplyExpectation(text=text, office_open=True, typical_seconds=typical)


def expectation_post(*, session_id: uuid.UUID | str) -> Message | None:
    """Tell the customer of a session just handed over who will answer and roughly when."""
    expectation = reply_expectation()
    session = SupportSession.objects.filter(pk=session_id).only("status", "assignee_id").first()
    # Closed meanwhile, or a person already holds it (they said hello themselves): say nothing.
    if session is None or session.status != SessionStatus.ESCALATED or session.assignee_id:
        return None
    return message_create(
        session_id=session_id,
        role=MessageRole.SYSTEM,
        content=expectation.text,
        metadata={
            "event": "reply_expectation",
            "office_open": expectation.office_open,
            "typical_reply_seconds": expectation.typical_seconds,
        },
    ).message


# --- Resume links: back to the conversation from an email ------------------------------------


def _hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def resume_link_create(*, session_id: uuid.UUID | str, now: datetime | None = None) -> str:
    """Return a signed, expiring, one-time link that restores the session in the chat page.

    The secret rides in the URL's fragment (after ``#``): browsers never send a fragment to
    the server, so it is in no access log, proxy log or Referer header.
    """
    now = now or timezone.now()
    hours = float(app_setting("RESUME_LINK_MAX_AGE_HOURS"))
    nonce = secrets.token_urlsafe(24)
    link = ResumeLink.objects.create(
        session_id=session_id, nonce_hash=_hash(nonce), expires_at=now + timedelta(hours=hours)
    )
    signed = signing.TimestampSigner(salt=RESUME_SALT).sign_object({"l": link.pk, "n": nonce})
    base = str(app_setting("SUPPORT_PUBLIC_URL")).rstrip("/")
    return f"{base}/#{RESUME_FRAGMENT}={signed}"


@transaction.atomic
def resume_link_redeem(*, link: str) -> OpenedSession:
    """Exchange a resume link (the signed value) for the session and a fresh customer token.

    One use: the link is spent, and the session's token is rotated, so whoever else held the
    old token (a lost device) is locked out too. Raises ResumeLinkInvalid for a forged,
    expired or spent link.
    """
    max_age = timedelta(hours=float(app_setting("RESUME_LINK_MAX_AGE_HOURS")))
    try:
        value = signing.TimestampSigner(salt=RESUME_SALT).unsign_object(link, max_age=max_age)
        link_id, nonce = int(value["l"]), str(value["n"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise ResumeLinkInvalid() from None
    row = ResumeLink.objects.select_for_update().filter(pk=link_id).first()
    now = timezone.now()
    if (
        row is None
        or row.used_at is not None
        or row.expires_at <= now
        or not hmac.compare_digest(row.nonce_hash, _hash(nonce))
    ):
        raise ResumeLinkInvalid()
    row.used_at = now
    row.save(update_fields=["used_at"])
    logger.info("Resume link %s redeemed for session %s", row.pk, row.session_id)
    return session_token_rotate(session_id=row.session_id)


# --- Emails -----------------------------------------------------------------------------------


def _recent(session_id, kind: str, minutes: float, now: datetime) -> bool:
    return (
        EmailLog.objects.filter(
            session_id=session_id, kind=kind, created_at__gte=now - timedelta(minutes=minutes)
        )
        .exclude(status=EmailStatus.FAILED)
        .exists()
    )


def _deliver(log: EmailLog, message) -> EmailLog:
    """Send ``message`` (an EmailMultiAlternatives) and record the outcome on ``log``."""
    try:
        message.send(fail_silently=False)
    except Exception as error:
        EmailLog.objects.filter(pk=log.pk).update(
            status=EmailStatus.FAILED, error=repr(error)[:500]
        )
        raise
    log.status, log.sent_at = EmailStatus.SENT, timezone.now()
    log.save(update_fields=["status", "sent_at"])
    # The address and the link are the customer's: the log says which session, nothing more.
    logger.info("Email %s (%s) sent for session %s", log.pk, log.kind, log.session_id)
    return log


def reply_email_notify(*, message_id: uuid.UUID | str) -> EmailLog | None:
    """Email the customer about an agent's reply if they are away; debounced per session.

    Returns the log of the email sent, or None when nothing is sent: the message is not a
    public agent reply, no address is known, the customer has the chat open, or an email
    went out within REPLY_EMAIL_DEBOUNCE_MINUTES.
    """
    message = (
        Message.objects.select_related("session", "session__contact", "author")
        .filter(pk=message_id)
        .first()
    )
    if message is None or message.role != MessageRole.AGENT or message.internal:
        return None
    session = message.session
    to = session.notify_email
    if not to or selectors.customer_present(session_id=session.pk):
        return None
    now = timezone.now()
    with transaction.atomic():
        # The session's row lock serialises two replies' tasks: one email per window.
        SupportSession.objects.select_for_update().filter(pk=session.pk).first()
        minutes = float(app_setting("REPLY_EMAIL_DEBOUNCE_MINUTES"))
        if _recent(session.pk, EmailKind.REPLY, minutes, now):
            return None
        log = EmailLog.objects.create(session=session, kind=EmailKind.REPLY, to=to, message=message)
        link = resume_link_create(session_id=session.pk, now=now)
    return _deliver(log, emails.reply_email(session=session, message=message, to=to, link=link))


@transaction.atomic
def transcript_request(*, session_id: uuid.UUID | str, email: str = "") -> EmailLog:
    """Queue the transcript of a closed session by email (to ``email`` or the known address)."""
    session = (
        SupportSession.objects.select_for_update().select_related("contact").get(pk=session_id)
    )
    if session.status != SessionStatus.CLOSED:
        raise SessionNotClosed()
    to = email or session.notify_email
    if not to:
        raise EmailRequired()
    minutes = float(app_setting("TRANSCRIPT_EMAIL_DEBOUNCE_MINUTES"))
    if _recent(session.pk, EmailKind.TRANSCRIPT, minutes, timezone.now()):
        raise TranscriptRecentlySent()
    log = EmailLog.objects.create(session=session, kind=EmailKind.TRANSCRIPT, to=to)

    def enqueue() -> None:
        from .tasks import transcript_email

        transcript_email.delay(log.pk)

    transaction.on_commit(enqueue)
    return log


def transcript_send(*, log_id: int) -> EmailLog | None:
    """Send the transcript email a request queued (idempotent: a sent log is not resent)."""
    log = EmailLog.objects.select_related("session").filter(pk=log_id).first()
    if log is None or log.status == EmailStatus.SENT:
        return None
    messages = selectors.transcript_messages(session_id=log.session_id)
    return _deliver(log, emails.transcript_email(session=log.session, messages=messages, to=log.to))
