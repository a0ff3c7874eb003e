"""SupportSession (one customer conversation), Website (a site the widget runs on), Contact,
Team and AgentProfile (who handles conversations), SessionEvent (the audit trail)."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower

from supportdesk.conf import app_setting

from .origins import normalize_origin


def new_site_key() -> str:
    """Return a fresh public site key (it is in every host page's HTML: not a secret)."""
    return "site_" + secrets.token_urlsafe(12)


def new_identity_secret() -> str:
    """Return a fresh identity secret (256 bits, hex) for signing user ids."""
    return secrets.token_hex(32)


def validate_origin_lines(value: str) -> None:
    """Refuse anything but exact origins (scheme://host[:port]), one per line."""
    for line in value.splitlines():
        if line.strip() and normalize_origin(line) is None:
            raise ValidationError(
                f"{line.strip()!r} is not an origin: write scheme://host[:port], "
                "nothing after the host (no path, no wildcard)."
            )


class Website(models.Model):
    """A site that embeds the widget: where it may run, how it looks, how it signs users."""

    name = models.CharField(max_length=200)
    site_key = models.CharField(max_length=40, unique=True, default=new_site_key, editable=False)
    allowed_origins = models.TextField(
        blank=True,
        validators=[validate_origin_lines],
        help_text="One origin per line, exactly as the browser sends it, e.g. "
        "https://shop.example.com or http://localhost:3000. Nothing else may embed the widget.",
    )
    accent_color = models.CharField(
        max_length=7,
        default="#2563eb",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a hex colour like #2563eb.")],
    )
    greeting = models.CharField(max_length=200, blank=True, default="Hi! How can we help?")
    prechat_form = models.BooleanField(
        default=False, help_text="Ask for a name and email before the chat starts."
    )
    identity_secret = models.CharField(max_length=64, default=new_identity_secret, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def origins(self) -> list[str]:
        """Return the allowed origins, normalized (lower-case, default port dropped)."""
        found = (normalize_origin(line) for line in self.allowed_origins.splitlines())
        return [origin for origin in found if origin]

    def allows_origin(self, origin: str | None) -> bool:
        """Return whether ``origin`` is exactly one of this site's allowed origins."""
        normalized = normalize_origin(origin or "")
        return normalized is not None and normalized in self.origins


class Contact(models.Model):
    """A customer the desk knows: identified by a site's signed user id, or created over REST."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # PROTECT: a site's contacts are its users; deleting the site must not orphan them into
    # the site-less namespace, where their external ids could collide.
    website = models.ForeignKey(
        Website, null=True, blank=True, on_delete=models.PROTECT, related_name="contacts"
    )
    # The host site's own user id; set only from a verified identity or by staff/API keys.
    external_id = models.CharField(max_length=255, blank=True)
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["website", "external_id"],
                condition=~models.Q(external_id=""),
                name="contact_external_id_unique_per_website",
            ),
            # NULLs never collide in a unique index: contacts without a site get their own.
            models.UniqueConstraint(
                fields=["external_id"],
                condition=models.Q(website__isnull=True) & ~models.Q(external_id=""),
                name="contact_external_id_unique_without_website",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.external_id or f"contact {str(self.id)[:8]}"


class Team(models.Model):
    """A group of agents that conversations are routed to (docs/console.md "Teams and routing").

    It lives here, beside the session that refers to it, so that chat's inbox can filter by
    team; the routing policy that picks a team and an agent is the ``teams`` app's.
    """

    name = models.CharField(max_length=100, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="support_teams"
    )
    websites = models.ManyToManyField(
        Website,
        blank=True,
        related_name="teams",
        help_text="Conversations from these sites go to this team (unless a rule says otherwise).",
    )
    topic_tags = models.JSONField(
        default=list,
        blank=True,
        help_text="Article tags: a hand-over whose last matched article has one comes here.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AgentStatus(models.TextChoices):
    ONLINE = "online", "Online"
    AWAY = "away", "Away"


class AgentProfile(models.Model):
    """A staff user's routing profile: how many conversations they take, and whether away.

    "Online" for routing also needs an open console socket (chat's Connection rows).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_profile"
    )
    capacity = models.PositiveSmallIntegerField(
        default=5,
        validators=[MaxValueValidator(100)],
        help_text="At most this many open or escalated conversations are assigned automatically.",
    )
    status = models.CharField(max_length=8, choices=AgentStatus.choices, default=AgentStatus.ONLINE)
    # Round robin: the eligible agent assigned longest ago (never first) gets the next one.
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["user__username"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_status_display()}, capacity {self.capacity})"


CSAT_COMMENT_MAX_CHARS = 1000


class SessionStatus(models.TextChoices):
    OPEN = "open", "Open"
    ESCALATED = "escalated", "Escalated"
    CLOSED = "closed", "Closed"


class HandledBy(models.TextChoices):
    AI = "ai", "AI"
    HUMAN = "human", "Human"


class Priority(models.TextChoices):
    NONE = "none", "None"
    LOW = "low", "Low"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class Label(models.Model):
    """A tag staff put on conversations ("refund", "bug"), with a colour for the inbox."""

    name = models.CharField(
        max_length=40,
        validators=[
            RegexValidator(
                r"^[\w][\w .:/+-]*$",
                "Letters, digits, spaces and . : / + - _ only, starting with a letter or digit.",
            )
        ],
    )
    color = models.CharField(
        max_length=7,
        default="#64748b",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a hex colour like #2563eb.")],
    )
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            # "Refund" and "refund" are one label: two would split every filter and report.
            models.UniqueConstraint(Lower("name"), name="label_name_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.name


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
    # The customer's optional words with the rating (bounded: CSAT_COMMENT_MAX_CHARS).
    csat_comment = models.TextField(blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    # Widget sessions: the site they were opened on and the contact they belong to.
    website = models.ForeignKey(
        Website, null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    # The team the conversation was routed to at hand-over (None: the general queue).
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    # Triage (issue 13): orthogonal to status, which keeps DESIGN's meaning.
    priority = models.CharField(
        max_length=8, choices=Priority.choices, default=Priority.NONE, db_index=True
    )
    labels = models.ManyToManyField(Label, blank=True, related_name="sessions")
    # Out of the inbox until then (or until the customer writes); the beat sweep wakes it.
    snoozed_until = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-last_activity_at"]
        indexes = [
            models.Index(fields=["status", "-last_activity_at"]),
            # The reply-time estimate reads the latest hand-overs (notifications.selectors).
            models.Index(fields=["-escalated_at"], name="session_escalated_at_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(csat__isnull=True) | models.Q(csat__gte=1, csat__lte=5),
                name="session_csat_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        who = self.display_name or "anonymous"
        return f"{who} ({self.get_status_display()}, {str(self.id)[:8]})"

    def reopen_until(self) -> datetime | None:
        """Until when the customer's next message reopens this closed conversation.

        None: it is not closed, its close time is unknown (closed by hand), or
        SESSION_REOPEN_WITHIN is 0; the customer's next message then starts a new one.
        """
        if self.status != SessionStatus.CLOSED or self.closed_at is None:
            return None
        seconds = float(app_setting("SESSION_REOPEN_WITHIN"))
        return self.closed_at + timedelta(seconds=seconds) if seconds > 0 else None

    @property
    def display_name(self) -> str:
        """Return the best name known for the customer: the contact's, else the pre-chat one."""
        contact = self.contact if self.contact_id else None
        if contact is not None and (contact.name or contact.email):
            return contact.name or contact.email
        return self.customer_name or self.customer_email

    @property
    def notify_email(self) -> str:
        """Return the address to write to: the one given in this chat, else the contact's."""
        if self.customer_email:
            return self.customer_email
        contact = self.contact if self.contact_id else None
        return contact.email if contact is not None else ""


class SessionEvent(models.Model):
    """One audited change of a session: who changed which field from what to what, when.

    Written by the lifecycle services (they know the actor on every path: console socket,
    REST, API key, admin, routing), not derived from saves, so the seq counter's writes on
    every message leave no noise. Values are stored as shown (names, not ids): the trail
    still reads right after a user or team is renamed or deleted.
    """

    session = models.ForeignKey(SupportSession, on_delete=models.CASCADE, related_name="events")
    field = models.CharField(max_length=32)
    old_value = models.CharField(max_length=200, blank=True)
    new_value = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(
        max_length=200, blank=True, help_text="The person, the API key, or the system."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["session", "created_at"])]

    def __str__(self) -> str:
        return f"{self.actor_name}: {self.field} {self.old_value or '—'} → {self.new_value or '—'}"
