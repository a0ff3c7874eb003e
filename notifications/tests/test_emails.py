"""Emails to the customer through a REAL local SMTP server (aiosmtpd): replies while away
(debounced, with a one-time resume link), the transcript; resume links themselves."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from chat.models import Connection, ConnectionKind, MessageRole
from chat.services import agent_message_send, message_create, note_add
from notifications import services
from notifications.exceptions import (
    EmailRequired,
    ResumeLinkInvalid,
    SessionNotClosed,
    TranscriptRecentlySent,
)
from notifications.models import EmailKind, EmailLog, EmailStatus, ResumeLink
from sessions_app.exceptions import SessionTokenInvalid
from sessions_app.selectors import session_for_customer
from sessions_app.services import session_close, session_take_over
from tests.factories import DEFAULT_TOKEN, StaffFactory, SupportSessionFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _held_session(**fields):
    agent = StaffFactory(first_name="Dana", last_name="Lee")
    session = SupportSessionFactory(**fields)
    session_take_over(session_id=session.pk, user=agent)
    return session, agent


def _link_value(url: str) -> str:
    assert "#resume=" in url, url
    return url.split("#resume=", 1)[1]


def test_an_agent_reply_while_the_customer_is_away_is_emailed_with_a_working_link(
    smtp_settings, caplog
):
    session, agent = _held_session(customer_email="casey@example.com")
    caplog.set_level(logging.DEBUG)
    agent_message_send(
        session_id=session.pk,
        user=agent,
        content="Your refund is on its way <b>today</b>. See **the policy**.",
    )
    (mail,) = smtp_settings.inbox.wait_for(1)
    assert mail.rcpt_tos == ["casey@example.com"]
    assert mail.subject == "Dana Lee replied to your support conversation"
    text, html = mail.part("text/plain"), mail.part("text/html")
    assert "Your refund is on its way <b>today</b>." in text
    assert "&lt;b&gt;today&lt;/b&gt;" in html and "<b>today</b>" not in html  # escaped
    assert "<strong>the policy</strong>" in html  # the one rich-text renderer (Markdown subset)
    link = text.split("Continue the conversation: ", 1)[1].split()[0]
    assert link.startswith("http://127.0.0.1:8000/#resume=")
    assert link in html.replace("&amp;", "&")
    # Nothing of ours logged the secret part of the link (aiosmtpd, the test's mail server,
    # logs whole conversations at DEBUG: it stands for the customer's mailbox).
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))
    assert f"Email {EmailLog.objects.get().pk} (reply) sent for session {session.pk}" in ours
    assert _link_value(link) not in ours
    log = EmailLog.objects.get()
    assert (log.kind, log.status, log.message.content[:4]) == (EmailKind.REPLY, "sent", "Your")

    # The link restores the session with a fresh token; the old token stops working.
    response = APIClient().post("/api/v1/resume/", {"link": _link_value(link)}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["id"] == str(session.pk)
    assert session_for_customer(session_id=session.pk, token=response.json()["token"])
    with pytest.raises(SessionTokenInvalid):
        session_for_customer(session_id=session.pk, token=DEFAULT_TOKEN)
    # Once only.
    again = APIClient().post("/api/v1/resume/", {"link": _link_value(link)}, format="json")
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "resume_link_invalid"


def test_replies_within_the_debounce_window_send_one_email(smtp_settings, settings):
    settings.REPLY_EMAIL_DEBOUNCE_MINUTES = 15
    session, agent = _held_session()
    for text in ("First answer", "Second answer", "Third answer"):
        agent_message_send(session_id=session.pk, user=agent, content=text)
    smtp_settings.inbox.wait_for(1)
    assert EmailLog.objects.filter(kind=EmailKind.REPLY).count() == 1
    # After the window, the next reply is emailed again.
    EmailLog.objects.update(created_at=timezone.now() - timedelta(minutes=16))
    agent_message_send(session_id=session.pk, user=agent, content="Fourth answer")
    assert "Fourth answer" in smtp_settings.inbox.wait_for(2)[1].part("text/plain")


def test_no_email_while_the_customer_has_the_chat_open(smtp_settings):
    session, agent = _held_session()
    Connection.objects.create(
        channel_name="specific.customer!1",
        kind=ConnectionKind.CUSTOMER,
        session=session,
        last_seen_at=timezone.now(),
    )
    agent_message_send(session_id=session.pk, user=agent, content="Here you go")
    assert services.reply_email_notify(message_id=session.messages.last().pk) is None
    assert smtp_settings.inbox.messages == [] and not EmailLog.objects.exists()


def test_no_email_without_an_address_nor_for_notes_or_the_ai(smtp_settings):
    session, agent = _held_session(customer_email="")
    agent_message_send(session_id=session.pk, user=agent, content="Hello?")
    other, other_agent = _held_session(customer_email="x@example.com")
    note_add(session_id=other.pk, user=other_agent, content="internal only")
    message_create(session_id=other.pk, role=MessageRole.ASSISTANT, content="AI text")
    assert smtp_settings.inbox.messages == [] and not EmailLog.objects.exists()


def test_the_contacts_address_is_used_when_the_chat_gave_none(smtp_settings):
    from sessions_app.models import Contact

    contact = Contact.objects.create(name="Grace", email="grace@example.com")
    session, agent = _held_session(customer_email="", contact=contact)
    agent_message_send(session_id=session.pk, user=agent, content="Hi Grace")
    assert smtp_settings.inbox.wait_for(1)[0].rcpt_tos == ["grace@example.com"]


def test_a_failed_send_is_recorded_and_retried_by_the_task(settings, smtp_server):
    from notifications.tasks import reply_email

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens there
    settings.EMAIL_TIMEOUT = 2
    session, agent = _held_session()
    with pytest.raises(OSError):
        services.reply_email_notify(
            message_id=agent_message_send(session_id=session.pk, user=agent, content="x").message.pk
        )
    assert EmailLog.objects.filter(status=EmailStatus.FAILED).exists()
    # The failed attempt does not debounce the retry, which reaches the real server.
    for name, value in smtp_server.settings().items():
        setattr(settings, name, value)
    assert reply_email.apply(args=[str(session.messages.last().pk)]).get() is True
    assert smtp_server.inbox.wait_for(1)


def test_resume_links_refuse_forgery_expiry_and_unknown_rows():
    session = SupportSessionFactory()
    value = _link_value(services.resume_link_create(session_id=session.pk))
    with pytest.raises(ResumeLinkInvalid):
        services.resume_link_redeem(link=value[:-2] + ("AA" if value[-2:] != "AA" else "BB"))
    ResumeLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ResumeLinkInvalid):
        services.resume_link_redeem(link=value)
    ResumeLink.objects.all().delete()
    with pytest.raises(ResumeLinkInvalid):
        services.resume_link_redeem(link=value)
    assert ResumeLink._meta.get_field("nonce_hash")  # only a hash is stored


def test_the_transcript_of_a_closed_conversation_by_email(smtp_settings, settings):
    session, agent = _held_session(customer_email="casey@example.com")
    message_create(session_id=session.pk, role=MessageRole.CUSTOMER, content="Where is my parcel?")
    agent_message_send(session_id=session.pk, user=agent, content="It ships <i>today</i>.")
    note_add(session_id=session.pk, user=agent, content="SECRET internal note")
    smtp_settings.inbox.wait_for(1)  # the reply email (no socket open)
    with pytest.raises(SessionNotClosed):
        services.transcript_request(session_id=session.pk)
    session_close(session_id=session.pk, actor=agent)

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Session {DEFAULT_TOKEN}")
    response = client.post(f"/api/v1/sessions/{session.pk}/transcript/", {}, format="json")
    assert response.status_code == 202, response.content
    transcript = smtp_settings.inbox.wait_for(2)[1]
    assert transcript.rcpt_tos == ["casey@example.com"]
    assert transcript.subject == "Your support conversation"
    text, html = transcript.part("text/plain"), transcript.part("text/html")
    assert "You (" in text and "Where is my parcel?" in text
    assert "Dana Lee (" in text and "It ships <i>today</i>." in text
    assert "&lt;i&gt;today&lt;/i&gt;" in html
    assert "SECRET" not in text and "SECRET" not in html

    again = client.post(f"/api/v1/sessions/{session.pk}/transcript/", {}, format="json")
    assert again.status_code == 429
    assert again.json()["error"]["code"] == "transcript_recently_sent"
    with pytest.raises(TranscriptRecentlySent):
        services.transcript_request(session_id=session.pk, email="other@example.com")


def test_the_transcript_needs_an_address():
    session = SupportSessionFactory(customer_email="")
    session_close(session_id=session.pk)
    with pytest.raises(EmailRequired):
        services.transcript_request(session_id=session.pk)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Session {DEFAULT_TOKEN}")
    bad = client.post(
        f"/api/v1/sessions/{session.pk}/transcript/", {"email": "not-an-email"}, format="json"
    )
    assert bad.status_code == 400
