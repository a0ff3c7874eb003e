"""The one JSON representation of a message, used by REST responses and WebSocket frames.

``message_payload`` builds it as a plain dict (no DRF on the hot path: measured in
docs/performance.md, "Issue 11"); the DRF serializers below describe the same fields for the
OpenAPI schema, and a test keeps both in step. Add a field to a message? Add it to
``message_payload`` (and to the serializer, for the schema).
"""

from __future__ import annotations

import datetime
import json

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from sessions_app.models import SessionStatus
from sessions_app.serializers import AuthorSerializer, label_payload, user_display_name
from supportdesk import richtext

from .attachments import attachment_urls
from .models import Message


class SourceSerializer(serializers.Serializer):
    article_id = serializers.IntegerField()
    title = serializers.CharField()
    score = serializers.FloatField()
    # The article's public help-center page (/help/<slug>/), stored with the source by the
    # agent; null for sources stored before the help center existed.
    url = serializers.CharField(allow_null=True, read_only=True)


class AttachmentSerializer(serializers.Serializer):
    """A file: its signed `url` (and `thumbnail_url` for images) open it without a header."""

    id = serializers.UUIDField()
    name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    url = serializers.CharField()
    thumbnail_url = serializers.CharField(allow_null=True)


class SuggestionSerializer(serializers.Serializer):
    """A quick reply the AI offers: pressing it sends ``text`` as a customer message."""

    label = serializers.CharField()
    text = serializers.CharField()
    article_id = serializers.IntegerField(allow_null=True)
    url = serializers.CharField(allow_null=True)
    action = serializers.ChoiceField(choices=["message", "handover"])


class MessageSerializer(serializers.ModelSerializer):
    session_id = serializers.UUIDField(read_only=True)
    author = AuthorSerializer(read_only=True, allow_null=True)
    sources = SourceSerializer(many=True, read_only=True)
    content_html = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()
    suggestions = serializers.SerializerMethodField()

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, message: Message) -> list[dict]:
        # From the message's own JSON column (no query); the links are signed afresh.
        return [attachment_urls(message.session_id, item) for item in message.attachments]

    class Meta:
        model = Message
        fields = [
            "id",
            "seq",
            "session_id",
            "role",
            "content",
            "content_html",
            "client_msg_id",
            "created_at",
            "sources",
            "confidence",
            "requires_escalation",
            "author",
            "attachments",
            "suggestions",
        ]
        read_only_fields = fields

    def get_content_html(self, message: Message) -> str:
        """Return the content as sanitised HTML (supportdesk.richtext): what pages display."""
        return richtext.render(message.content)

    @extend_schema_field(SuggestionSerializer(many=True))
    def get_suggestions(self, message: Message) -> list[dict]:
        # Kept in the AI's decision metadata (agents.decision); [] for every other message.
        return (message.metadata or {}).get("suggestions") or []


class StaffMessageSerializer(MessageSerializer):
    """Adds what only agents see: internal notes and the agent's decision metadata."""

    in_reply_to = serializers.UUIDField(source="in_reply_to_id", read_only=True, allow_null=True)

    class Meta(MessageSerializer.Meta):
        fields = [*MessageSerializer.Meta.fields, "internal", "metadata", "in_reply_to"]
        read_only_fields = fields


class MessageCreateSerializer(serializers.Serializer):
    """Input of POST /messages/ (the WebSocket `message` frame carries the same fields)."""

    content = serializers.CharField(trim_whitespace=False, allow_blank=True)
    client_msg_id = serializers.RegexField(
        r"^[A-Za-z0-9._:-]{1,64}$", required=False, allow_null=True
    )
    # Ids of uploads (POST …/attachments/); the count limit is ATTACHMENT_MAX_PER_MESSAGE,
    # checked by the service; this bound only keeps a silly list from being parsed at all.
    attachments = serializers.ListField(
        child=serializers.UUIDField(), required=False, max_length=20, default=list
    )

    def validate(self, data: dict) -> dict:
        if not data["content"].strip() and not data.get("attachments"):
            raise serializers.ValidationError({"content": ["This field may not be blank."]})
        return data


def api_datetime(value: datetime.datetime | None) -> str | None:
    """Return ``value`` as DRF's DateTimeField writes it (local time zone, "Z" for UTC)."""
    if value is None:
        return None
    text = timezone.localtime(value).isoformat()
    if text.endswith("+00:00"):
        text = text.removesuffix("+00:00") + "Z"
    return text


def _sources(sources) -> list[dict]:
    return [
        {
            "article_id": int(s["article_id"]),
            "title": str(s["title"]),
            "score": float(s["score"]),
            # The help-center page; None for sources stored before the help center existed.
            "url": s.get("url"),
        }
        for s in sources or []
    ]


def message_payload(message: Message, *, for_staff: bool = False) -> dict:
    """Return the message as plain JSON-ready data (the staff copy adds what only agents see)."""
    # author_id first: a customer's message has none, and must not cost a query to find out.
    author = message.author if message.author_id is not None else None
    payload = {
        "id": str(message.id),
        "seq": message.seq,
        "session_id": str(message.session_id),
        "role": message.role,
        "content": message.content,
        # Sanitised HTML for display (supportdesk.richtext, cached per text).
        "content_html": richtext.render(message.content),
        "client_msg_id": message.client_msg_id,
        "created_at": api_datetime(message.created_at),
        "sources": _sources(message.sources),
        "confidence": float(message.confidence) if message.confidence is not None else None,
        "requires_escalation": message.requires_escalation,
        "author": {"id": author.pk, "name": user_display_name(author)} if author else None,
        # From the message's own JSON column (no query); the links are signed afresh.
        "attachments": [
            attachment_urls(message.session_id, item) for item in message.attachments or []
        ],
        # Quick replies of the AI's clarifications and declines (agents.decision); else [].
        "suggestions": (message.metadata or {}).get("suggestions") or [],
    }
    if for_staff:
        payload["internal"] = message.internal
        payload["metadata"] = message.metadata
        payload["in_reply_to"] = (
            str(message.in_reply_to_id) if message.in_reply_to_id is not None else None
        )
    return payload


def message_frame(payload: dict) -> str:
    """Return the WebSocket ``message`` frame for a payload, encoded once for every socket."""
    return frame_text({"type": "message", "message": payload})


def frame_text(frame: dict) -> str:
    """Encode one outgoing frame (orjson: measured faster than json; same compact output)."""
    return orjson.dumps(frame, option=orjson.OPT_NON_STR_KEYS).decode()


def waiting_since(session):
    """Return since when the customer has been waiting for an answer, or None if they are not.

    The inbox's "waiting 7m" counts only while the customer waits: from their oldest message
    after the last answer — a person's reply once the session is with people (escalated),
    the AI's or a person's while the AI handles it — or, for an escalated session no person
    has answered since the hand-over, from the hand-over. Closed: None. Needs the annotations
    of chat.selectors.inbox_sessions.
    """
    if session.status == SessionStatus.CLOSED:
        return None
    if session.status == SessionStatus.ESCALATED:
        replied = session.last_agent_reply_at
        if session.escalated_at is not None and (replied is None or replied < session.escalated_at):
            return session.escalated_at
        return session.waiting_after_agent_at
    return session.waiting_after_answer_at


def inbox_summary(session) -> dict:
    """Return an inbox row for a session annotated by chat.selectors.inbox_sessions."""
    assignee = session.assignee
    last_message = None
    if session.last_message_seq is not None:
        last_message = {
            "seq": session.last_message_seq,
            "role": session.last_message_role,
            "content": session.last_message_preview,
            "created_at": session.last_message_at,
        }
    data = {
        "id": session.pk,
        "status": session.status,
        "handled_by": session.handled_by,
        "assignee": {"id": assignee.pk, "name": user_display_name(assignee)} if assignee else None,
        "team": {"id": session.team.pk, "name": session.team.name} if session.team_id else None,
        "customer_name": session.customer_name,
        "customer_email": session.customer_email,
        # The contact's name, else the pre-chat one: the inbox shows it instead of "Anonymous".
        "display_name": session.display_name,
        "contact_id": session.contact_id,
        "created_at": session.created_at,
        "last_activity_at": session.last_activity_at,
        "escalated_at": session.escalated_at,
        "last_message": last_message,
        "unanswered": session.unanswered,
        "waiting_since": waiting_since(session),
        "csat": session.csat,
        "priority": session.priority,
        "labels": [label_payload(label) for label in session.labels.all()],
        "snoozed_until": session.snoozed_until,
    }
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))
