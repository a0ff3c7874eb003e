"""Admin for customer emails (read-only audit: what went to whom, when, and failures)."""

from django.contrib import admin

from .models import EmailLog


@admin.register(EmailLog)
class EmailLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "to", "status", "session", "sent_at"]
    list_filter = ["kind", "status", "created_at"]
    search_fields = ["to", "session__id"]
    raw_id_fields = ["session", "message"]
    readonly_fields = [f.name for f in EmailLog._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
