"""The one JSON representation of a session, used by REST responses and WebSocket frames."""

from __future__ import annotations

import json
import re

from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import Contact, Label, SessionEvent, SupportSession, Team

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


class LabelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Label
        fields = ["id", "name", "color", "description"]
        read_only_fields = fields


def label_payload(label) -> dict:
    """Return a label as plain data (inbox rows and frames)."""
    return {"id": label.pk, "name": label.name, "color": label.color}


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
    labels = LabelSerializer(many=True, read_only=True)
    snoozed_until = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="Out of the inbox until then (or until the customer writes); null: not snoozed.",
    )
    reopen_until = serializers.SerializerMethodField(
        help_text=(
            "Closed: until when a message from the customer reopens the conversation "
            "(SESSION_REOPEN_WITHIN after the close); null: not closed, or it stays closed."
        )
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
            "priority",
            "labels",
            "snoozed_until",
            "reopen_until",
        ]
        read_only_fields = fields

    def get_assignee_name(self, session) -> str:
        return user_display_name(session.assignee)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_reopen_until(self, session) -> str | None:
        until = session.reopen_until()
        return None if until is None else serializers.DateTimeField().to_representation(until)


# Staff's triage of a conversation: never shown to its customer (a label may say "angry").
STAFF_ONLY_FIELDS = ("priority", "labels", "snoozed_until")


def session_payload(session: SupportSession, *, for_staff: bool = True) -> dict:
    """Return the session as plain JSON-ready data (for frames and events).

    ``for_staff=False`` leaves out the triage fields (STAFF_ONLY_FIELDS) for the customer.
    """
    data = json.loads(json.dumps(SessionSerializer(session).data, cls=DjangoJSONEncoder))
    return data if for_staff else customer_view(data)


def customer_view(data: dict) -> dict:
    """Return a serialized session without the fields only staff may see."""
    return {key: value for key, value in data.items() if key not in STAFF_ONLY_FIELDS}
