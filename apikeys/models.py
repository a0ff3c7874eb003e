"""ApiKey: a named, scoped, revocable credential for integrations, stored only as a hash."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Scope(models.TextChoices):
    READ = "read", "read: GET the REST API"
    WRITE = "write", "write: create and change (POST/PUT/PATCH/DELETE)"
    OPS = "ops", "ops: the operations endpoints"


class ApiKey(models.Model):
    name = models.CharField(max_length=100, help_text="Who or what uses this key, e.g. 'CRM sync'.")
    # The public part of the key (sd_<prefix>_<secret>): finds the row with one indexed lookup.
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    # SHA-256 hex of the whole key; the key itself is shown once and never stored.
    key_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list, help_text="Any of: read, write, ops.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Written at most once a minute per key (apikeys.services.api_key_touch), not per request.
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} (sd_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
