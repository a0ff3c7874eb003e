"""The one JSON representation of a session, used by REST responses and WebSocket frames."""

from __future__ import annotations

import json
import re

from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from rest_framework import serializers

from .models import Contact, SessionEvent, SupportSession, Team

# Unicode bidi controls: embeddings, overrides, isolates and the invisible direction marks.
# In a name they only serve to make text display other than it reads (U+202E "RLO" flips
# "gnp.exe" into "exe.png"), so they are removed at input; the console also isolates names.
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def strip_bidi_controls(text: str) -> str:
    """Return ``text`` without Unicode bidirectional control characters."""
    return BIDI_CONTROLS.sub("", text)


class DisplayNameField(serializers.CharField):
    """A person's name as typed: bidi controls removed, then trimmed like any CharField."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = strip_bidi_controls(data)
        return super().to_internal_value(data)


def user_display_name(user) -> str:
    """Return the name a customer sees for a staff user."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


class AuthorSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()

    class Meta:
        model = get_user_model()
        fields = ["id", "name"]

    def get_name(self, user) -> str:
        return user_display_name(user)


class ContactSummarySerializer(serializers.ModelSerializer):
    """Who the customer is, as far as the desk knows (no free attributes: frames reach them)."""

    class Meta:
        model = Contact
        fields = ["id", "name", "email", "external_id"]
        read_only_fields = fields


class TeamSummarySerializer(serializers.ModelSerializer):
    """The team a session is routed to, as sessions and inbox rows show it."""

    class Meta:
        model = Team
        fields = ["id", "name"]
        read_only_fields = fields


class SessionEventSerializer(serializers.ModelSerializer):
    """One line of a session's audit trail."""

    actor = serializers.CharField(source="actor_name", read_only=True)

    class Meta:
        model = SessionEvent
        fields = ["id", "field", "old_value", "new_value", "actor", "created_at"]
        read_only_fields = fields


class SessionSerializer(serializers.ModelSerializer):
    assignee = AuthorSerializer(read_only=True, allow_null=True)
    team = TeamSummarySerializer(
        read_only=True, allow_null=True, help_text="The team it was routed to; null: none."
    )
    assignee_name = serializers.SerializerMethodField()
    # A plain string in the schema: "" (not given) is no email address, so format "email"
    # would make every anonymous session's answer violate its own documentation.
    customer_email = serializers.CharField(
        read_only=True, help_text="The customer's email address, or empty if not given."
    )
    contact = ContactSummarySerializer(read_only=True, allow_null=True)
    display_name = serializers.CharField(
        read_only=True, help_text="The contact's name, else the pre-chat name; empty if unknown."
    )

    class Meta:
        model = SupportSession
        fields = [
            "id",
            "status",
            "handled_by",
            "assignee",
            "assignee_name",
            "team",
            "customer_name",
            "customer_email",
            "contact",
            "display_name",
            "last_seq",
            "created_at",
            "last_activity_at",
            "closed_at",
            "csat",
            "csat_comment",
        ]
        read_only_fields = fields

    def get_assignee_name(self, session) -> str:
        return user_display_name(session.assignee)


def session_payload(session: SupportSession) -> dict:
    """Return the session as plain JSON-ready data (for frames and events)."""
    return json.loads(json.dumps(SessionSerializer(session).data, cls=DjangoJSONEncoder))
