"""Admin for messages and live connections (connections are read-only)."""

from django.contrib import admin

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
