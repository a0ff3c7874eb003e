"""SupportSession: one customer conversation, from open to closed."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class SessionStatus(models.TextChoices):
    OPEN = "open", "Open"
    ESCALATED = "escalated", "Escalated"
    CLOSED = "closed", "Closed"


class HandledBy(models.TextChoices):
    AI = "ai", "AI"
    HUMAN = "human", "Human"


class SupportSession(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(
        max_length=16, choices=SessionStatus.choices, default=SessionStatus.OPEN, db_index=True
    )
    handled_by = models.CharField(max_length=8, choices=HandledBy.choices, default=HandledBy.AI)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_sessions",
    )
    customer_name = models.CharField(max_length=200, blank=True)
    customer_email = models.EmailField(blank=True)
    # sha256 of the customer's secret token; the token itself is shown once, at creation.
    token_hash = models.CharField(max_length=64, editable=False)
    last_seq = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    last_activity_at = models.DateTimeField(auto_now_add=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    csat = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-last_activity_at"]
        indexes = [models.Index(fields=["status", "-last_activity_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(csat__isnull=True) | models.Q(csat__gte=1, csat__lte=5),
                name="session_csat_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        who = self.customer_name or self.customer_email or "anonymous"
        return f"{who} ({self.get_status_display()}, {str(self.id)[:8]})"
