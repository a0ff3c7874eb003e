"""WebhookEndpoint (where events go), WebhookDelivery (one event to one endpoint) and attempts."""

from __future__ import annotations

import uuid

from django.db import models


class EventType(models.TextChoices):
    SESSION_CREATED = "session.created", "session.created"
    MESSAGE_CREATED = "message.created", "message.created"
    SESSION_ESCALATED = "session.escalated", "session.escalated"
    SESSION_ASSIGNED = "session.assigned", "session.assigned"
    SESSION_CLOSED = "session.closed", "session.closed"
    CSAT_SUBMITTED = "csat.submitted", "csat.submitted"


class WebhookEndpoint(models.Model):
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    # Signs every delivery (HMAC-SHA256). Shown once, at creation; kept in clear because the
    # server must compute the signature (as Stripe and GitHub do).
    secret = models.CharField(max_length=64, editable=False)
    events = models.JSONField(default=list, help_text="Event types this endpoint receives.")
    is_active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    # Deliveries that gave up in a row (reset by a success); at WEBHOOK_DISABLE_AFTER the
    # endpoint is disabled.
    consecutive_failures = models.PositiveIntegerField(default=0)
    total_failures = models.PositiveIntegerField(default=0)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "webhook endpoint"

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "pending"
    FAILED = "failed", "failed (will retry)"
    SUCCEEDED = "succeeded", "succeeded"
    GAVE_UP = "gave_up", "giving up"


class WebhookDelivery(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.UUIDField(db_index=True)  # the same for every endpoint and redelivery
    event_type = models.CharField(max_length=32, choices=EventType.choices)
    payload = models.JSONField()  # the exact body sent: {"id", "type", "created_at", "data"}
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    redelivery_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.CharField(max_length=1024, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_once")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
