"""Admin for support sessions: the back office's view of every conversation."""

from __future__ import annotations

from contextvars import ContextVar

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from . import selectors, services
from .exceptions import SessionError
from .models import Contact, Label, SessionEvent, SupportSession, Website

# The desk origin for the install snippet, from the request the admin page is rendering.
_desk_origin: ContextVar[str] = ContextVar("desk_origin", default="https://desk.example.com")


@admin.register(Website)
class WebsiteAdmin(admin.ModelAdmin):
    """Sites that embed the widget: origins, look, pre-chat form, and the identity secret."""

    list_display = ["name", "site_key", "origins_display", "prechat_form", "created_at"]
    search_fields = ["name", "site_key", "allowed_origins"]
    readonly_fields = ["site_key", "install_snippet", "identity_secret", "created_at"]
    fields = [
        "name",
        "install_snippet",
        "site_key",
        "allowed_origins",
        "accent_color",
        "greeting",
        "prechat_form",
        "identity_secret",
        "created_at",
    ]
    actions = ["rotate_identity_secret"]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        token = _desk_origin.set(request.build_absolute_uri("/").rstrip("/"))
        try:
            response = super().changeform_view(request, object_id, form_url, extra_context)
            # A TemplateResponse renders after the view returns: render while the origin is set.
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            return response
        finally:
            _desk_origin.reset(token)

    @admin.display(description="allowed origins")
    def origins_display(self, website):
        return ", ".join(website.origins) or "— (nowhere)"

    @admin.display(description="install snippet")
    def install_snippet(self, website):
        if not website.pk:
            return "Save the website to get its snippet."
        snippet = (
            f'<script src="{_desk_origin.get()}/widget.js" '
            f'data-site="{website.site_key}" async></script>'
        )
        return format_html(
            "<code style='user-select:all'>{}</code><br><small>Paste it before &lt;/body&gt; on "
            "every page of the site. docs/widget.md shows how to identify signed-in users "
            "(data-user-id and data-user-hash, signed with the identity secret below).</small>",
            snippet,
        )

    @admin.action(description="Rotate the identity secret (old user hashes stop working)")
    def rotate_identity_secret(self, request, queryset):
        for website in queryset:
            services.website_rotate_identity_secret(website_id=website.pk)
        self.message_user(
            request,
            f"{queryset.count()} identity secret(s) rotated: update the site's backend now.",
            messages.WARNING,
        )


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    """Customers the desk knows, with their conversations."""

    list_display = ["__str__", "external_id", "email", "website", "created_at", "last_seen_at"]
    list_filter = ["website"]
    search_fields = ["name", "email", "external_id"]
    list_select_related = ["website"]
    readonly_fields = ["id", "created_at", "last_seen_at", "conversations"]

    @admin.display(description="conversations")
    def conversations(self, contact):
        sessions = contact.sessions.order_by("-created_at")[:50]
        if not sessions:
            return "—"
        return format_html_join(
            "",
            "<div><a href='{}'>{}</a> · {}</div>",
            (
                (
                    reverse("admin:sessions_app_supportsession_change", args=[s.pk]),
                    s.created_at.strftime("%Y-%m-%d %H:%M"),
                    s.get_status_display(),
                )
                for s in sessions
            ),
        )


def seconds_display(value: float | None) -> str:
    """Return a duration in seconds as "42 s", "3 min 5 s" or "2 h 10 min" ("—" for none)."""
    if value is None:
        return "—"
    seconds = int(value)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


class SessionEventInline(admin.TabularInline):
    """The audit trail: who changed the status, assignee, team (…) and when. Read-only."""

    model = SessionEvent
    verbose_name = "change"
    verbose_name_plural = "audit trail"
    fields = ["created_at", "actor_name", "field", "old_value", "new_value"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["created_at", "pk"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# Fields of the change form whose edits are written to the audit trail.
_AUDITED_FORM_FIELDS = ("status", "assignee", "team")


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ["name", "color", "description"]
    search_fields = ["name"]


@admin.register(SupportSession)
class SupportSessionAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "status",
        "handled_by",
        "assignee",
        "team",
        "message_count",
        "csat",
        "csat_comment_short",
        "created_at",
        "last_activity_at",
    ]
    list_filter = [
        "status",
        "handled_by",
        "team",
        "priority",
        "labels",
        "assignee",
        "csat",
        "created_at",
    ]
    # Also the text of the messages (get_search_results): full-text search on PostgreSQL.
    search_fields = [
        "id",
        "customer_name",
        "customer_email",
        "contact__name",
        "contact__email",
        "csat_comment",
    ]
    search_help_text = (
        "Customer name or email, or words of the conversation (full-text search in full mode)."
    )
    list_select_related = ["assignee", "contact", "team"]
    raw_id_fields = ["contact", "website"]
    readonly_fields = [
        "id",
        "token_hash",
        "last_seq",
        "created_at",
        "last_activity_at",
        "escalated_at",
        "closed_at",
        "csat",
        "csat_comment",
    ]
    date_hierarchy = "created_at"
    # The transcript and the first response / resolution columns are added by chat's admin
    # (chat owns Message and the metrics selectors; this app must not import them).
    inlines = [SessionEventInline]
    actions = ["escalate", "assign_to_me", "hand_back_to_ai", "close"]

    def get_search_results(self, request, queryset, search_term):
        """Match the fields above, or the conversation's text, with the REST list's selector.

        The message condition is one EXISTS served by the GIN full-text index on PostgreSQL
        (icontains on SQLite); the term is cut to SEARCH_MAX_CHARS and the page is bounded
        by the changelist's pagination.
        """
        term = (search_term or "").strip()[: selectors.SEARCH_MAX_CHARS]
        if not term:
            return queryset, False
        try:
            by_id = Q(pk=selectors.parse_session_id(term))
        except SessionError:
            by_id = Q(pk__in=[])
        condition = (
            by_id
            | selectors.search_q(term)
            | Q(contact__name__icontains=term)
            | Q(contact__email__icontains=term)
        )
        return queryset.filter(condition), False

    def save_model(self, request, obj, form, change):
        # An edit in this form bypasses the lifecycle services: write its trail here.
        if change:
            stored = SupportSession.objects.select_related("assignee", "team").get(pk=obj.pk)
            before = services.session_audited_values(stored)
            after = services.session_audited_values(obj)
            changes = {
                field: (before[field], after[field])
                for field in _AUDITED_FORM_FIELDS
                if field in form.changed_data
            }
            services.session_events_record(session=obj, changes=changes, actor=request.user)
        super().save_model(request, obj, form, change)

    def get_queryset(self, request):
        # Through the reverse relation "messages" (no import of chat).
        return (
            super()
            .get_queryset(request)
            .annotate(visible_messages=Count("messages", filter=Q(messages__internal=False)))
        )

    @admin.display(description="messages", ordering="visible_messages")
    def message_count(self, session):
        return session.visible_messages

    @admin.display(description="rating comment")
    def csat_comment_short(self, session):
        comment = session.csat_comment
        return (comment[:80] + "…" if len(comment) > 80 else comment) or "—"

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
