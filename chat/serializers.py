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
from rest_framework import serializers

from sessions_app.serializers import AuthorSerializer, user_display_name

from .models import Message


class SourceSerializer(serializers.Serializer):
    article_id = serializers.IntegerField()
    title = serializers.CharField()
    score = serializers.FloatField()


class MessageSerializer(serializers.ModelSerializer):
    session_id = serializers.UUIDField(read_only=True)
    author = AuthorSerializer(read_only=True, allow_null=True)
    sources = SourceSerializer(many=True, read_only=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "seq",
            "session_id",
            "role",
            "content",
            "client_msg_id",
            "created_at",
            "sources",
            "confidence",
            "requires_escalation",
            "author",
        ]
        read_only_fields = fields


class StaffMessageSerializer(MessageSerializer):
    """Adds what only agents see: internal notes and the agent's decision metadata."""

    in_reply_to = serializers.UUIDField(source="in_reply_to_id", read_only=True, allow_null=True)

    class Meta(MessageSerializer.Meta):
        fields = [*MessageSerializer.Meta.fields, "internal", "metadata", "in_reply_to"]
        read_only_fields = fields


class MessageCreateSerializer(serializers.Serializer):
    """Input of POST /messages/ (the WebSocket `message` frame carries the same fields)."""

    content = serializers.CharField(trim_whitespace=False, allow_blank=False)
    client_msg_id = serializers.RegexField(
        r"^[A-Za-z0-9._:-]{1,64}$", required=False, allow_null=True
    )


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
        {"article_id": int(s["article_id"]), "title": str(s["title"]), "score": float(s["score"])}
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
        "client_msg_id": message.client_msg_id,
        "created_at": api_datetime(message.created_at),
        "sources": _sources(message.sources),
        "confidence": float(message.confidence) if message.confidence is not None else None,
        "requires_escalation": message.requires_escalation,
        "author": {"id": author.pk, "name": user_display_name(author)} if author else None,
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
        "csat": session.csat,
    }
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))
