"""Admin for messages and live connections (connections are read-only), and session transcripts."""

from django.contrib import admin

from sessions_app.admin import SupportSessionAdmin, seconds_display
from sessions_app.models import SupportSession

from .metrics_selectors import first_response_seconds, resolution_seconds, sessions_with_timings
from .models import CannedResponse, Connection, Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = [
        "session",
        "seq",
        "role",
        "short_content",
        "confidence",
        "requires_escalation",
        "internal",
        "created_at",
    ]
    list_filter = ["role", "requires_escalation", "internal", "created_at"]
    search_fields = ["content", "session__id", "session__customer_email"]
    list_select_related = ["session", "session__assignee"]
    readonly_fields = [f.name for f in Message._meta.fields]

    @admin.display(description="content")
    def short_content(self, message):
        return message.content[:80]

    def has_add_permission(self, request):
        return False


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ["channel_name", "kind", "session", "user", "connected_at", "last_seen_at"]
    list_filter = ["kind"]
    list_select_related = ["session", "session__assignee", "user"]
    readonly_fields = [f.name for f in Connection._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    list_display = ["shortcut", "title", "updated_at"]
    search_fields = ["shortcut", "title", "body"]


class MessageInline(admin.TabularInline):
    """The transcript, read-only, in seq order (internal notes included and marked)."""

    model = Message
    fk_name = "session"
    fields = [
        "seq",
        "role",
        "content",
        "author",
        "confidence",
        "requires_escalation",
        "internal",
        "decision",
        "created_at",
    ]
    readonly_fields = fields
    ordering = ["seq"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")

    @admin.display(description="why")
    def decision(self, message):
        reasons = (message.metadata or {}).get("reasons") or []
        return ", ".join(reasons) or "—"


# sessions_app registers the session admin without the transcript (it cannot import Message);
# chat adds it here. sessions_app comes before chat in INSTALLED_APPS, so it is registered.
admin.site.unregister(SupportSession)


@admin.register(SupportSession)
class SupportSessionWithTranscriptAdmin(SupportSessionAdmin):
    """The session admin with its transcript and honest timings (chat.metrics_selectors)."""

    inlines = [*SupportSessionAdmin.inlines, MessageInline]
    list_display = [
        *SupportSessionAdmin.list_display[:-2],
        "first_response",
        "resolution",
        *SupportSessionAdmin.list_display[-2:],
    ]
    readonly_fields = [*SupportSessionAdmin.readonly_fields, "first_response", "resolution"]

    def get_queryset(self, request):
        return sessions_with_timings(super().get_queryset(request))

    # Only a person's reply counts: the AI's answers and its hand-over text are not responses.
    @admin.display(description="first response")
    def first_response(self, session):
        return seconds_display(first_response_seconds(session))

    @admin.display(description="resolution")
    def resolution(self, session):
        return seconds_display(resolution_seconds(session))
