"""Admin for teams, agents' routing profiles and the routing rule table."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from sessions_app.models import AgentProfile, Team

from .models import RoutingRule


class TagsField(forms.CharField):
    """Tags typed as "billing, refunds" (not JSON); stored as a list of lower-case words."""

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(str(tag) for tag in value)
        return value

    def to_python(self, value):
        text = super().to_python(value) or ""
        tags = [tag.strip().lower() for tag in text.split(",")]
        return list(dict.fromkeys(tag for tag in tags if tag))[:50]


class TeamForm(forms.ModelForm):
    topic_tags = TagsField(
        required=False,
        help_text="Comma-separated article tags, e.g. billing, refunds.",
    )

    class Meta:
        model = Team
        fields = ["name", "members", "websites", "topic_tags"]


class RoutingRuleInline(admin.TabularInline):
    model = RoutingRule
    extra = 0
    fields = ["position", "is_active", "website", "topic_tag", "reason"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    form = TeamForm
    list_display = ["name", "member_names", "tags_display", "created_at"]
    search_fields = ["name"]
    filter_horizontal = ["members", "websites"]
    inlines = [RoutingRuleInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("members")

    @admin.display(description="members")
    def member_names(self, team):
        return ", ".join(m.get_full_name() or m.get_username() for m in team.members.all()) or "—"

    @admin.display(description="topic tags")
    def tags_display(self, team):
        return ", ".join(team.topic_tags or []) or "—"


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "status", "capacity", "last_assigned_at"]
    list_editable = ["status", "capacity"]
    list_select_related = ["user"]
    readonly_fields = ["last_assigned_at"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    """The ordered rule table: the first active rule whose conditions all hold wins."""

    list_display = ["position", "__str__", "team", "is_active"]
    list_display_links = ["__str__"]
    list_editable = ["position", "is_active"]
    list_select_related = ["team", "website"]
    list_filter = ["team", "is_active"]
