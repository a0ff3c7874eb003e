"""The emails a customer receives, built with Django's email framework (text + HTML templates).

The HTML part escapes every message (Django's autoescape, line breaks kept): no shared rich
text renderer is on this branch yet (supportdesk/richtext.py comes with another change).
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from sessions_app.serializers import user_display_name

SUBJECT_MAX = 120


def _build(*, subject: str, to: str, template: str, context: dict) -> EmailMultiAlternatives:
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    # A header must be one line: names come from people, so newlines are removed.
    subject = " ".join(subject.split())[:SUBJECT_MAX]
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to]
    )
    message.attach_alternative(html, "text/html")
    return message


def reply_email(*, session, message, to: str, link: str) -> EmailMultiAlternatives:
    """Return the "you have a new reply" email, with the link back to the conversation."""
    agent = user_display_name(message.author) or "Our support team"
    return _build(
        subject=f"{agent} replied to your support conversation",
        to=to,
        template="agent_reply",
        context={"agent": agent, "content": message.content, "link": link, "session": session},
    )


def transcript_email(*, session, messages, to: str) -> EmailMultiAlternatives:
    """Return the email carrying a conversation's transcript."""
    rows = []
    for message in messages:
        if message.role == "customer":
            who = "You"
        elif message.role == "agent":
            who = user_display_name(message.author) or "Support"
        elif message.role == "assistant":
            who = "Assistant"
        else:
            who = "—"
        rows.append({"who": who, "at": message.created_at, "content": message.content})
    return _build(
        subject="Your support conversation",
        to=to,
        template="transcript",
        context={"rows": rows, "session": session},
    )
