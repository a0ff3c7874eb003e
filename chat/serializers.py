"""The one JSON representation of a message, used by REST responses and WebSocket frames."""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from sessions_app.serializers import AuthorSerializer, user_display_name

from .models import Message


class SourceSerializer(serializers.Serializer):
    article_id = serializers.IntegerField()
    title = serializers.CharField()
    score = serializers.FloatField()


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
    suggestions = serializers.SerializerMethodField()

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
            "suggestions",
        ]
        read_only_fields = fields

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

    content = serializers.CharField(trim_whitespace=False, allow_blank=False)
    client_msg_id = serializers.RegexField(
        r"^[A-Za-z0-9._:-]{1,64}$", required=False, allow_null=True
    )


def message_payload(message: Message, *, for_staff: bool = False) -> dict:
    """Return the message as plain JSON-ready data."""
    serializer = StaffMessageSerializer if for_staff else MessageSerializer
    # A JSON round trip leaves only plain types, which every channel-layer serializer accepts.
    return json.loads(json.dumps(serializer(message).data, cls=DjangoJSONEncoder))


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
