"""Message (the ordered transcript of a session) and Connection (one row per open socket)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from sessions_app.models import Priority as SessionPriority


class MessageRole(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    ASSISTANT = "assistant", "Assistant"
    AGENT = "agent", "Agent"
    SYSTEM = "system", "System"


class Message(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(
        "sessions_app.SupportSession", on_delete=models.CASCADE, related_name="messages"
    )
    # 1, 2, 3 … per session, allocated under the session's row lock: no gaps, no repeats.
    seq = models.PositiveIntegerField()
    role = models.CharField(max_length=16, choices=MessageRole.choices)
    content = models.TextField()
    client_msg_id = models.CharField(max_length=64, null=True, blank=True)
    sources = models.JSONField(default=list, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    requires_escalation = models.BooleanField(default=False)
    # Internal notes are for agents only and are never sent to the customer.
    internal = models.BooleanField(default=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # The customer message an assistant (or fallback system) reply answers; unique, so a
    # retried agent task can never answer the same message twice.
    in_reply_to = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reply"
    )
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["session", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["session", "seq"], name="message_unique_seq"),
            models.UniqueConstraint(
                fields=["session", "client_msg_id"],
                condition=models.Q(client_msg_id__isnull=False),
                name="message_unique_client_msg_id",
            ),
            models.CheckConstraint(condition=models.Q(seq__gte=1), name="message_seq_positive"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.role}: {self.content[:60]}"


class CannedResponse(models.Model):
    """A saved reply agents insert in the console by typing its shortcut after "/"."""

    shortcut = models.SlugField(max_length=40, unique=True)
    title = models.CharField(max_length=120)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["shortcut"]

    def __str__(self) -> str:
        return f"/{self.shortcut} — {self.title}"


class MacroStatus(models.TextChoices):
    """What a macro does to the conversation's status; empty leaves it as it is."""

    KEEP = "", "Leave as is"
    ESCALATED = "escalated", "Hand to the human queue"
    OPEN = "open", "Back to the AI"
    CLOSED = "closed", "Close"


class Macro(models.Model):
    """A saved reply plus actions, applied in one click: e.g. refund policy + label + close.

    ``body`` (optional) may hold placeholders (chat/placeholders.py); labels are added (not
    replaced), ``priority`` and ``status`` set when given.
    """

    name = models.CharField(max_length=80, unique=True)
    body = models.TextField(blank=True)
    labels = models.ManyToManyField("sessions_app.Label", blank=True, related_name="macros")
    # Empty: leave the priority as it is.
    priority = models.CharField(
        max_length=8,
        blank=True,
        choices=[("", "Leave as is"), *SessionPriority.choices],
    )
    status = models.CharField(max_length=16, blank=True, choices=MacroStatus.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ConnectionKind(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    AGENT = "agent", "Agent"


class Connection(models.Model):
    channel_name = models.CharField(max_length=255, unique=True)
    kind = models.CharField(max_length=16, choices=ConnectionKind.choices)
    session = models.ForeignKey(
        "sessions_app.SupportSession",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="connections",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE
    )
    connected_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-connected_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.channel_name}"
