"""Admin for messages and live connections (connections are read-only), and session transcripts
(drawn as a conversation on the session page)."""

from django import forms
from django.contrib import admin

from sessions_app.admin import SupportSessionAdmin, seconds_display
from sessions_app.models import SupportSession
from sessions_app.serializers import user_display_name

from . import selectors
from .metrics_selectors import first_response_seconds, resolution_seconds, sessions_with_timings
from .models import CannedResponse, Connection, Macro, Message, MessageRole
from .placeholders import PLACEHOLDERS, placeholders_check


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


class PlaceholderBodyForm(forms.ModelForm):
    """Refuse a body with an unknown placeholder: only known ones are ever filled in."""

    def clean_body(self):
        body = self.cleaned_data.get("body") or ""
        problems = placeholders_check(body)
        if problems:
            raise forms.ValidationError("; ".join(problems) + ". " + PLACEHOLDER_HELP)
        return body


PLACEHOLDER_HELP = "Known: " + ", ".join("{{" + name + "}}" for name in PLACEHOLDERS) + "."


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    form = PlaceholderBodyForm
    list_display = ["shortcut", "title", "updated_at"]
    search_fields = ["shortcut", "title", "body"]


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    form = PlaceholderBodyForm
    list_display = ["name", "priority", "status", "updated_at"]
    search_fields = ["name", "body"]
    filter_horizontal = ["labels"]


ROLE_LABELS = {
    MessageRole.ASSISTANT: "AI assistant",
    MessageRole.SYSTEM: "System",
}


def _file_url(session_id, attachment_id) -> str:
    return f"/api/v1/sessions/{session_id}/attachments/{attachment_id}/"


def _transcript_rows(session: SupportSession) -> list[dict]:
    """Return the transcript's messages with what the template shows beside each."""
    rows = []
    for message in selectors.transcript_messages(
        session_id=session.pk, limit=selectors.TRANSCRIPT_LIMIT
    ):
        if message.role == MessageRole.CUSTOMER:
            author = session.display_name or "Customer"
        elif message.role == MessageRole.AGENT:
            author = user_display_name(message.author) or (message.metadata or {}).get(
                "api_key", "Agent"
            )
        else:
            author = ROLE_LABELS.get(message.role, message.role)
        rows.append(
            {
                "message": message,
                "author": author,
                "reasons": ", ".join((message.metadata or {}).get("reasons") or []),
                # From the message's own summary (no query); staff open them with their login.
                "files": [
                    (_file_url(message.session_id, item["id"]), item["name"])
                    for item in (message.attachments or [])
                ],
                "confidence_pct": (
                    round(message.confidence * 100) if message.confidence is not None else None
                ),
            }
        )
    return rows


# sessions_app registers the session admin without the transcript (it cannot import Message);
# chat adds it here. sessions_app comes before chat in INSTALLED_APPS, so it is registered.
admin.site.unregister(SupportSession)


@admin.register(SupportSession)
class SupportSessionWithTranscriptAdmin(SupportSessionAdmin):
    """The session page: its transcript drawn as a conversation (bubbles by role) and
    honest timings (chat.metrics_selectors)."""

    change_form_template = "admin/chat/supportsession/change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        session = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if session is not None:
            extra["transcript"] = _transcript_rows(session)
            extra["transcript_total"] = session.last_seq
            extra["transcript_limit"] = selectors.TRANSCRIPT_LIMIT
        return super().change_view(request, object_id, form_url, extra)

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
