"""Admin for support sessions: the back office's view of every conversation."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, Min, Q

from . import services
from .exceptions import SessionError
from .models import SupportSession


def _seconds(delta) -> str:
    if delta is None:
        return "—"
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


@admin.register(SupportSession)
class SupportSessionAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "status",
        "handled_by",
        "assignee",
        "message_count",
        "csat",
        "first_response",
        "duration",
        "created_at",
        "last_activity_at",
    ]
    list_filter = ["status", "handled_by", "assignee", "csat", "created_at"]
    search_fields = ["id", "customer_name", "customer_email"]
    list_select_related = ["assignee"]
    readonly_fields = [
        "id",
        "token_hash",
        "last_seq",
        "created_at",
        "last_activity_at",
        "escalated_at",
        "closed_at",
        "csat",
        "first_response",
        "duration",
    ]
    date_hierarchy = "created_at"
    # The transcript inline is added by chat's admin (chat owns Message; this app must not
    # import it).
    inlines = []
    actions = ["escalate", "assign_to_me", "hand_back_to_ai", "close"]

    def get_queryset(self, request):
        # Through the reverse relation "messages" (no import of chat): roles by their values.
        return (
            super()
            .get_queryset(request)
            .annotate(
                visible_messages=Count("messages", filter=Q(messages__internal=False)),
                first_answer_at=Min(
                    "messages__created_at",
                    filter=Q(messages__role__in=["assistant", "agent"]),
                ),
            )
        )

    @admin.display(description="messages", ordering="visible_messages")
    def message_count(self, session):
        return session.visible_messages

    @admin.display(description="first response")
    def first_response(self, session):
        first = getattr(session, "first_answer_at", None)
        return _seconds(first - session.created_at) if first else "—"

    @admin.display(description="duration")
    def duration(self, session):
        return _seconds(session.closed_at - session.created_at) if session.closed_at else "—"

    def _apply(self, request, queryset, action, **kwargs):
        done = 0
        for session in queryset:
            try:
                action(session_id=session.pk, **kwargs)
                done += 1
            except SessionError as error:
                self.message_user(request, f"{session}: {error.detail}", messages.WARNING)
        if done:
            self.message_user(request, f"{done} session(s) updated.", messages.SUCCESS)

    @admin.action(description="Escalate to the human queue")
    def escalate(self, request, queryset):
        self._apply(
            request, queryset, services.session_escalate, reason="admin", actor=request.user
        )

    @admin.action(description="Assign to me (take over)")
    def assign_to_me(self, request, queryset):
        self._apply(
            request, queryset, services.session_assign, assignee=request.user, actor=request.user
        )

    @admin.action(description="Hand back to the AI")
    def hand_back_to_ai(self, request, queryset):
        self._apply(request, queryset, services.session_release, actor=request.user)

    @admin.action(description="Close")
    def close(self, request, queryset):
        self._apply(request, queryset, services.session_close, actor=request.user)
