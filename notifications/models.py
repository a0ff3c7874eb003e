"""EmailLog (every email sent to a customer, for debouncing and audit) and ResumeLink."""

from __future__ import annotations

from django.db import models


class EmailKind(models.TextChoices):
    REPLY = "reply", "New reply while away"
    TRANSCRIPT = "transcript", "Transcript"


class EmailStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class EmailLog(models.Model):
    """One email to a customer; a pending or sent row of the window debounces the next."""

    session = models.ForeignKey(
        "sessions_app.SupportSession", on_delete=models.CASCADE, related_name="email_logs"
    )
    kind = models.CharField(max_length=16, choices=EmailKind.choices)
    to = models.EmailField()
    status = models.CharField(
        max_length=16, choices=EmailStatus.choices, default=EmailStatus.PENDING
    )
    # The agent reply that triggered a "new reply" email (none for a transcript).
    message = models.ForeignKey(
        "chat.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["session", "kind", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.to} ({self.status})"


class ResumeLink(models.Model):
    """A one-time, expiring link back to a conversation; only the nonce's hash is stored."""

    session = models.ForeignKey(
        "sessions_app.SupportSession", on_delete=models.CASCADE, related_name="resume_links"
    )
    nonce_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"resume link of {self.session_id} ({'used' if self.used_at else 'unused'})"
