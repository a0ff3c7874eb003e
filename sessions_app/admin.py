"""Admin for support sessions: the back office's view of every conversation."""

from django.contrib import admin

from chat.models import Message

from .models import SupportSession


class MessageInline(admin.TabularInline):
    model = Message
    fields = [
        "seq",
        "role",
        "content",
        "author",
        "confidence",
        "requires_escalation",
        "internal",
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


@admin.register(SupportSession)
class SupportSessionAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "status",
        "handled_by",
        "assignee",
        "last_seq",
        "csat",
        "created_at",
        "last_activity_at",
    ]
    list_filter = ["status", "handled_by", "assignee", "created_at"]
    search_fields = ["id", "customer_name", "customer_email"]
    list_select_related = ["assignee"]
    readonly_fields = [
        "id",
        "token_hash",
        "last_seq",
        "created_at",
        "last_activity_at",
        "closed_at",
    ]
    date_hierarchy = "created_at"
    inlines = [MessageInline]
