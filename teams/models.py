"""RoutingRule: the admin's ordered table deciding which team a handed-over conversation joins.

Team and AgentProfile live in sessions_app, beside the session that refers to its team.
"""

from __future__ import annotations

from django.db import models

from sessions_app.models import Team, Website


class RoutingRule(models.Model):
    """If every condition given matches, the conversation goes to ``team``; first match wins."""

    position = models.PositiveIntegerField(default=0, help_text="Lower positions are tried first.")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="routing_rules")
    is_active = models.BooleanField(default=True)
    website = models.ForeignKey(
        Website,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="routing_rules",
        help_text="Only conversations from this site.",
    )
    topic_tag = models.CharField(
        max_length=64,
        blank=True,
        help_text="Only when the article the AI last matched has this tag.",
    )
    reason = models.CharField(
        max_length=64,
        blank=True,
        help_text="Only hand-overs for this reason, e.g. human_requested, low_confidence.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        conditions = [
            f"site {self.website}" if self.website_id else "",
            f"tag {self.topic_tag}" if self.topic_tag else "",
            f"reason {self.reason}" if self.reason else "",
        ]
        condition = " and ".join(c for c in conditions if c) or "any"
        return f"#{self.position}: {condition} → {self.team}"

    def matches(self, *, website_id: int | None, tags: set[str], reasons: set[str]) -> bool:
        """Return whether every condition this rule sets holds for the hand-over."""
        if self.website_id is not None and self.website_id != website_id:
            return False
        if self.topic_tag and self.topic_tag.strip().lower() not in tags:
            return False
        return not (self.reason and self.reason.strip().lower() not in reasons)
