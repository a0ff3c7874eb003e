"""Message (the ordered transcript of a session), Attachment (a file in it) and Connection."""

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
    # What the payload shows of the message's files ({id, name, content_type, size, thumbnail}),
    # copied from its Attachment rows when it is stored: serialising a message needs no query.
    attachments = models.JSONField(default=list, blank=True)
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


class AttachmentKind(models.TextChoices):
    """Who uploaded a file: a customer's file goes with a customer message, staff's with a reply."""

    CUSTOMER = "customer", "Customer"
    STAFF = "staff", "Staff"


class Attachment(models.Model):
    """A file uploaded into a session, unattached until a message carries it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(
        "sessions_app.SupportSession", on_delete=models.CASCADE, related_name="attachments"
    )
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="files"
    )
    kind = models.CharField(max_length=16, choices=AttachmentKind.choices)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # Storage names chosen by the server (never the client's file name): default_storage.
    file = models.FileField(max_length=255)
    thumbnail = models.FileField(max_length=255, blank=True)
    name = models.CharField(max_length=120)  # the sanitised name shown and downloaded
    content_type = models.CharField(max_length=40)  # detected from the bytes
    size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            # The cleanup task's query: unattached uploads older than a cutoff.
            models.Index(
                fields=["created_at"],
                condition=models.Q(message__isnull=True),
                name="attachment_unattached_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.content_type}, {self.size} bytes)"


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
