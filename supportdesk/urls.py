"""URL routes: the chat page, help center, admin, health probes, /metrics and the REST API."""

from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.urls import include, path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from agents import api as kb_api
from agents import gaps_views, helpcenter
from chat import api_canned, api_macros, reports_views
from chat import ops as chat_ops
from chat.api import MessageListApi, NoteCreateApi
from chat.api_attachments import AttachmentFileApi, AttachmentThumbnailApi, AttachmentUploadApi
from chat.views import ConsoleLoginView, chat_page, console_page
from chat.widget_views import widget_config, widget_frame, widget_loader
from notifications import api as notify_api
from sessions_app import api as session_api
from sessions_app import contacts_api, triage_api
from teams import api as teams_api
from webhooks import api as webhook_api

from . import health, ops
from .metrics_view import MetricsView

api_v1 = [
    path("sessions/", session_api.SessionListApi.as_view(), name="session-list"),
    path(
        "sessions/<str:session_id>/", session_api.SessionDetailApi.as_view(), name="session-detail"
    ),
    path("sessions/<str:session_id>/messages/", MessageListApi.as_view(), name="message-list"),
    path(
        "sessions/<str:session_id>/escalate/",
        session_api.SessionEscalateApi.as_view(),
        name="session-escalate",
    ),
    path(
        "sessions/<str:session_id>/close/",
        session_api.SessionCloseApi.as_view(),
        name="session-close",
    ),
    path(
        "sessions/<str:session_id>/assign/",
        session_api.SessionAssignApi.as_view(),
        name="session-assign",
    ),
    path(
        "sessions/<str:session_id>/rate/", session_api.SessionRateApi.as_view(), name="session-rate"
    ),
    path(
        "sessions/<str:session_id>/release/",
        session_api.SessionReleaseApi.as_view(),
        name="session-release",
    ),
    path(
        "sessions/<str:session_id>/reopen/",
        session_api.SessionReopenApi.as_view(),
        name="session-reopen",
    ),
    path("sessions/<str:session_id>/notes/", NoteCreateApi.as_view(), name="session-notes"),
    path(
        "sessions/<str:session_id>/events/",
        session_api.SessionEventsApi.as_view(),
        name="session-events",
    ),
    path(
        "sessions/<str:session_id>/attachments/",
        AttachmentUploadApi.as_view(),
        name="attachment-upload",
    ),
    path(
        "sessions/<str:session_id>/attachments/<str:attachment_id>/",
        AttachmentFileApi.as_view(),
        name="attachment-file",
    ),
    path(
        "sessions/<str:session_id>/attachments/<str:attachment_id>/thumbnail/",
        AttachmentThumbnailApi.as_view(),
        name="attachment-thumbnail",
    ),
    path(
        "sessions/<str:session_id>/email/",
        session_api.SessionEmailApi.as_view(),
        name="session-email",
    ),
    path(
        "sessions/<str:session_id>/transcript/",
        notify_api.TranscriptEmailApi.as_view(),
        name="session-transcript",
    ),
    path("resume/", notify_api.ResumeApi.as_view(), name="session-resume"),
    path(
        "sessions/<str:session_id>/priority/",
        triage_api.SessionPriorityApi.as_view(),
        name="session-priority",
    ),
    path(
        "sessions/<str:session_id>/labels/",
        triage_api.SessionLabelsApi.as_view(),
        name="session-labels",
    ),
    path(
        "sessions/<str:session_id>/snooze/",
        triage_api.SessionSnoozeApi.as_view(),
        name="session-snooze",
    ),
    path(
        "sessions/<str:session_id>/unsnooze/",
        triage_api.SessionUnsnoozeApi.as_view(),
        name="session-unsnooze",
    ),
    path(
        "sessions/<str:session_id>/macros/<int:macro_id>/apply/",
        api_macros.MacroApplyApi.as_view(),
        name="session-macro-apply",
    ),
    path(
        "sessions/<str:session_id>/canned-responses/<int:canned_id>/",
        api_macros.CannedRenderApi.as_view(),
        name="session-canned-render",
    ),
    path("labels/", triage_api.LabelListApi.as_view(), name="label-list"),
    path("labels/<int:label_id>/", triage_api.LabelDetailApi.as_view(), name="label-detail"),
    path("macros/", api_macros.MacroListApi.as_view(), name="macro-list"),
    path("macros/<int:macro_id>/", api_macros.MacroDetailApi.as_view(), name="macro-detail"),
    path("kb/articles/", kb_api.ArticleListApi.as_view(), name="kb-article-list"),
    path(
        "kb/articles/<int:article_id>/",
        kb_api.ArticleDetailApi.as_view(),
        name="kb-article-detail",
    ),
    path(
        "kb/articles/<int:article_id>/examples/",
        kb_api.ArticleExampleListApi.as_view(),
        name="kb-example-list",
    ),
    path(
        "kb/articles/<int:article_id>/examples/<int:example_id>/",
        kb_api.ArticleExampleDetailApi.as_view(),
        name="kb-example-detail",
    ),
    path(
        "canned-responses/",
        api_canned.CannedResponseListApi.as_view(),
        name="canned-response-list",
    ),
    path(
        "canned-responses/<int:canned_id>/",
        api_canned.CannedResponseDetailApi.as_view(),
        name="canned-response-detail",
    ),
    path("webhooks/", webhook_api.WebhookListApi.as_view(), name="webhook-list"),
    path(
        "webhooks/<int:endpoint_id>/", webhook_api.WebhookDetailApi.as_view(), name="webhook-detail"
    ),
    path(
        "webhooks/<int:endpoint_id>/deliveries/",
        webhook_api.WebhookDeliveryListApi.as_view(),
        name="webhook-deliveries",
    ),
    path(
        "webhooks/<int:endpoint_id>/deliveries/<uuid:delivery_id>/redeliver/",
        webhook_api.WebhookRedeliverApi.as_view(),
        name="webhook-redeliver",
    ),
    path("contacts/", contacts_api.ContactListApi.as_view(), name="contact-list"),
    path(
        "contacts/<str:contact_id>/", contacts_api.ContactDetailApi.as_view(), name="contact-detail"
    ),
    path(
        "contacts/<str:contact_id>/sessions/",
        contacts_api.ContactSessionsApi.as_view(),
        name="contact-sessions",
    ),
    path("teams/", teams_api.TeamListApi.as_view(), name="team-list"),
    path("agents/me/status/", teams_api.AgentStatusApi.as_view(), name="agent-status"),
    path("ops/websockets/", chat_ops.ConnectionStatsApi.as_view(), name="ops-websockets"),
    path(
        "ops/websockets/cleanup/",
        chat_ops.ConnectionCleanupApi.as_view(),
        name="ops-websockets-cleanup",
    ),
    path("ops/rate-limits/reset/", ops.RateLimitResetApi.as_view(), name="ops-rate-limits-reset"),
]

urlpatterns = [
    path("", chat_page, name="chat"),
    path("console/", console_page, name="console"),
    path("console/login/", ConsoleLoginView.as_view(), name="console-login"),
    path("console/reports/", reports_views.reports_page, name="console-reports"),
    path("console/reports/export.csv", reports_views.reports_csv, name="console-reports-csv"),
    path("console/gaps/", gaps_views.gaps_page, name="console-gaps"),
    path("console/gaps/add-examples/", gaps_views.gap_add_examples, name="console-gaps-add"),
    path("console/gaps/draft-article/", gaps_views.gap_draft_article, name="console-gaps-draft"),
    path("console/logout/", LogoutView.as_view(next_page="console-login"), name="console-logout"),
    # The embeddable widget: its loader, its per-site config (CORS) and its framed page.
    path("widget.js", widget_loader, name="widget-loader"),
    path("widget/<str:site_key>/", widget_frame, name="widget-frame"),
    path("widget/<str:site_key>/config", widget_config, name="widget-config"),
    # The public help center: published articles, server-rendered (agents/helpcenter.py).
    path("help/", helpcenter.help_index, name="help"),
    path("help/search/", helpcenter.help_search, name="help-search"),
    path("help/<slug:slug>/", helpcenter.help_article, name="help-article"),
    path("admin/", admin.site.urls),
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    # The root URLconf composes the apps: chat's database gauges join every scrape.
    path(
        "metrics",
        MetricsView.as_view(collectors=[chat_ops.ConnectionStatsCollector()]),
        name="metrics",
    ),
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its script as a file: the CSP forbids inline scripts.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    # The WebSocket protocol, linked from the schema's description (shown on /api/docs/).
    path(
        "api/docs/websocket/",
        TemplateView.as_view(template_name="api/websocket.html"),
        name="api-docs-websocket",
    ),
]

handler404 = "supportdesk.api.json_404"
handler500 = "supportdesk.api.json_500"
