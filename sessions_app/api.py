"""REST endpoints of the session lifecycle (/api/v1/sessions/…): thin views over services."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apikeys.permissions import StaffOrApiKey
from supportdesk.api import ApiError, Conflict, PageQuerySerializer, Pagination, without_page
from supportdesk.clientip import client_ip
from supportdesk.throttling import RateThrottle

from . import selectors, services
from .authentication import (
    customer_session_for_request,
    is_staff_request,
    request_actor,
    request_api_key_name,
    session_for_request,
)
from .exceptions import (
    AlreadyAssigned,
    InvalidTransition,
    SessionClosed,
    SessionError,
    WidgetError,
)
from .identity import MAX_USER_ID_CHARS
from .models import CSAT_COMMENT_MAX_CHARS, HandledBy, Priority, SessionStatus
from .serializers import DisplayNameField, SessionEventSerializer, SessionSerializer, customer_view

logger = logging.getLogger(__name__)


def actor_kwargs(request) -> dict:
    """Return who acts, for a lifecycle service: the staff user, or None and the key's name."""
    return {"actor": request_actor(request), "api_key_name": request_api_key_name(request)}


def service_call(function, **kwargs):
    """Run a lifecycle service, turning its domain errors into API errors."""
    try:
        return function(**kwargs)
    except (SessionClosed, AlreadyAssigned, InvalidTransition) as error:
        raise Conflict(error.code, error.detail) from None
    except SessionError as error:
        raise ApiError(error.code, error.detail) from None


class SessionCreateThrottle(RateThrottle):
    """SESSION_CREATE_RATE session creations per client IP (fails open if the cache is down).

    The IP is the TCP peer unless it is a trusted proxy (supportdesk.clientip): DRF's own
    get_ident believes any X-Forwarded-For, so a client could rotate fake ones forever.
    """

    scope = "session_create"

    def ident(self, request) -> str | None:
        return client_ip(request)


def ws_url(request, session_id) -> str:
    scheme = "wss" if request.is_secure() else "ws"
    return f"{scheme}://{request.get_host()}/ws/sessions/{session_id}/"


class SessionCreatedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    token = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    ws_url = serializers.CharField()


SESSION_EXAMPLE = {
    "id": "5f0c6a8e-2b1d-4c3e-9f7a-1d2e3f4a5b6c",
    "status": "escalated",
    "handled_by": "human",
    "assignee": {"id": 7, "name": "Dana Lee"},
    "assignee_name": "Dana Lee",
    "customer_name": "Casey Customer",
    "customer_email": "casey@example.com",
    "last_seq": 6,
    "created_at": "2026-03-02T09:14:05.120Z",
    "last_activity_at": "2026-03-02T09:21:40.004Z",
    "closed_at": None,
    "csat": None,
    "priority": "high",
    "labels": [{"id": 3, "name": "refund", "color": "#dc2626", "description": ""}],
    "snoozed_until": None,
}


@extend_schema_field(OpenApiTypes.STR)
class AssigneeFilterField(serializers.Field):
    """A staff user's id, or ``none`` for sessions nobody is assigned to."""

    default_error_messages = {"invalid": "must be a user id or 'none'."}

    def to_internal_value(self, data):
        if isinstance(data, str) and data.strip().lower() == "none":
            return "none"
        if isinstance(data, str) and data.strip().isascii() and data.strip().isdigit():
            value = int(data)
            if 0 < value < 2**63:
                return value
        self.fail("invalid")

    def to_representation(self, value):
        return str(value)


class SessionListApi(APIView):
    """POST: open a session (anyone, throttled). GET: list sessions (staff)."""

    pagination_class = Pagination  # so the schema shows the {count, next, previous, results} page

    @extend_schema_serializer(component_name="SessionCreateInput")
    class InputSerializer(serializers.Serializer):
        customer_name = DisplayNameField(max_length=200, required=False, allow_blank=True)
        customer_email = serializers.EmailField(required=False, allow_blank=True)
        site_key = serializers.CharField(
            max_length=40,
            required=False,
            help_text="The widget's site key: binds the session to that website.",
        )
        page_origin = serializers.CharField(
            max_length=300,
            required=False,
            allow_blank=True,
            help_text="The host page's origin (the widget frame learns it from the loader's "
            "postMessage); the request's own Origin header wins when it is not the desk's.",
        )
        page_url = serializers.CharField(max_length=2000, required=False, allow_blank=True)
        user_id = serializers.CharField(
            max_length=MAX_USER_ID_CHARS,
            required=False,
            allow_blank=True,
            help_text="The host site's id of its signed-in user; needs user_hash.",
        )
        user_hash = serializers.CharField(
            max_length=128,
            required=False,
            allow_blank=True,
            help_text="hex HMAC-SHA256(identity secret, user_id), computed by the site's backend.",
        )

    class FilterSerializer(PageQuerySerializer):
        status = serializers.ChoiceField(choices=SessionStatus.choices, required=False)
        handled_by = serializers.ChoiceField(choices=HandledBy.choices, required=False)
        assignee = AssigneeFilterField(required=False)
        contact = serializers.UUIDField(required=False, help_text="A contact's id.")
        created_after = serializers.DateTimeField(
            required=False, help_text="ISO 8601; sessions created at or after it."
        )
        created_before = serializers.DateTimeField(
            required=False, help_text="ISO 8601; sessions created before it."
        )
        search = serializers.CharField(
            required=False,
            allow_blank=True,  # an empty search box filters nothing
            max_length=selectors.SEARCH_MAX_CHARS,
            help_text="Customer name or email, or words of the conversation.",
        )
        label = serializers.CharField(
            required=False, max_length=40, help_text="A label's name (any case)."
        )
        priority = serializers.ChoiceField(choices=Priority.choices, required=False)
        snoozed = serializers.BooleanField(
            required=False,
            allow_null=True,
            default=None,
            help_text="true: snoozed sessions only; false: none of them; absent: both.",
        )
        ordering = serializers.ChoiceField(
            choices=selectors.SESSION_ORDERINGS, required=False, default="-last_activity_at"
        )

        def validate(self, attrs):
            after, before = attrs.get("created_after"), attrs.get("created_before")
            if after and before and after >= before:
                raise serializers.ValidationError(
                    {"created_before": "must be later than created_after."}
                )
            return attrs

    def get_permissions(self):
        if self.request.method == "POST":
            return [permissions.AllowAny()]
        return [StaffOrApiKey()]

    def get_throttles(self):
        throttles = super().get_throttles()  # per key / token / IP, as everywhere
        return [*throttles, SessionCreateThrottle()] if self.request.method == "POST" else throttles

    @extend_schema(
        summary="Open a session",
        description=(
            "Open a customer conversation. The answer's `token` is the customer's secret for "
            "this session (`Authorization: Session <token>` and the WebSocket `auth` frame): "
            "it is returned only here, store it. Throttled per client IP "
            "(`SESSION_CREATE_RATE`)."
        ),
        request=InputSerializer,
        responses={201: SessionCreatedSerializer},
        auth=[],
        examples=[
            OpenApiExample(
                "Named customer",
                value={"customer_name": "Casey Customer", "customer_email": "casey@example.com"},
                request_only=True,
            ),
            OpenApiExample(
                "Created",
                value={
                    "id": "5f0c6a8e-2b1d-4c3e-9f7a-1d2e3f4a5b6c",
                    "token": "q3V9cM2m1tP0bqkq3yTtQm8E2wq1rVQm6V9q1x7n2Zk",
                    "status": "open",
                    "created_at": "2026-03-02T09:14:05.120Z",
                    "ws_url": "wss://support.example.com/ws/sessions/5f0c6a8e-2b1d-4c3e-9f7a-1d2e3f4a5b6c/",
                },
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        payload = self.InputSerializer(data=data)
        payload.is_valid(raise_exception=True)
        opened = self._open(request, dict(payload.validated_data))
        session = opened.session
        return Response(
            {
                "id": str(session.id),
                "token": opened.token,
                "status": session.status,
                "created_at": session.created_at,
                "ws_url": ws_url(request, session.id),
            },
            status=status.HTTP_201_CREATED,
        )

    def _open(self, request, data: dict) -> services.OpenedSession:
        site_key = data.pop("site_key", None)
        widget_fields = {k: data.pop(k, "") for k in ("page_origin", "page_url", "user_id")}
        user_hash = data.pop("user_hash", "")
        if site_key is None:
            if widget_fields["user_id"] or user_hash:
                raise ApiError("invalid_field", "user_id and user_hash need a site_key.")
            return services.session_open(**data)
        origin = request.headers.get("Origin", "")
        own_origin = request.build_absolute_uri("/").rstrip("/")
        if origin and origin != own_origin:
            # A page calling us directly: the browser's Origin header is the page origin.
            widget_fields["page_origin"] = origin
        try:
            return services.widget_session_open(
                site_key=site_key,
                user_hash=user_hash,
                user_agent=request.headers.get("User-Agent", ""),
                **widget_fields,
                **data,
            )
        except WidgetError as error:
            # A client's mistake or a forgery: the answer says which; nothing at ERROR.
            logger.info("Widget session refused (%s) for site %s", error.code, site_key)
            raise ApiError(error.code, error.detail, error.status) from None

    @extend_schema(
        summary="List sessions",
        description=(
            "Staff or an API key (`read`). Filters: `status`, `handled_by`, `assignee` (a user "
            "id or `none`), `contact` (a contact's id), `created_after`/`created_before` "
            "(ISO 8601), `search` (customer name/email and message text, at most 100 "
            "characters), `label` (a label's name), `priority` (none/low/high/urgent), "
            "`snoozed` (true/false), `ordering`. A bad value "
            "is a 400 `invalid_field`. Paginated with `limit` (1–100) and `offset`."
        ),
        parameters=[FilterSerializer],
        responses=SessionSerializer(many=True),
        examples=[
            OpenApiExample(
                "A page",
                value={"count": 1, "next": None, "previous": None, "results": [SESSION_EXAMPLE]},
                response_only=True,
            )
        ],
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = selectors.sessions_list(**without_page(filters.validated_data))
        paginator = Pagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(SessionSerializer(page, many=True).data)


class SessionDetailApi(APIView):
    """GET the session (its customer, staff)."""

    permission_classes = [permissions.AllowAny]  # access is decided by session_for_request

    @extend_schema(
        summary="Get a session",
        description=(
            "The session's state. A customer token opens only its own session; another "
            "session's token gets the same 404 as an unknown id."
        ),
        responses=SessionSerializer,
        examples=[OpenApiExample("Escalated", value=SESSION_EXAMPLE, response_only=True)],
    )
    def get(self, request, session_id: str):
        session = session_for_request(request, session_id)
        data = SessionSerializer(session).data
        # A customer never sees the staff's triage (labels, priority, snooze).
        return Response(data if is_staff_request(request) else customer_view(data))


class SessionEscalateApi(APIView):
    """POST: hand the session to the human queue (already escalated: unchanged)."""

    permission_classes = [StaffOrApiKey]

    @extend_schema_serializer(component_name="SessionEscalateInput")
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=200, required=False, default="staff_request")

    @extend_schema(
        summary="Escalate a session",
        description=(
            "Hand the conversation to the human queue: the AI stops answering, the agent "
            "console is told at once. A closed session is a 409 `session_closed`."
        ),
        request=InputSerializer,
        responses=SessionSerializer,
        examples=[OpenApiExample("Reason", value={"reason": "vip_customer"}, request_only=True)],
    )
    def post(self, request, session_id: str):
        session = session_for_request(request, session_id)
        payload = self.InputSerializer(data=request.data or {})
        payload.is_valid(raise_exception=True)
        session = service_call(
            services.session_escalate,
            session_id=session.pk,
            reason=payload.validated_data["reason"],
            **actor_kwargs(request),
        )
        return Response(SessionSerializer(selectors.session_get(session_id=session.pk)).data)


class SessionCloseApi(APIView):
    """POST: close the session (already closed: unchanged)."""

    permission_classes = [StaffOrApiKey]

    @extend_schema(
        summary="Close a session",
        description="Close the conversation; the customer is asked for a 1–5 rating.",
        request=None,
        responses=SessionSerializer,
    )
    def post(self, request, session_id: str):
        session = session_for_request(request, session_id)
        service_call(services.session_close, session_id=session.pk, **actor_kwargs(request))
        return Response(SessionSerializer(selectors.session_get(session_id=session.pk)).data)


class SessionAssignApi(APIView):
    """POST: give the session to a staff user, or (assignee_id null) back to the AI."""

    permission_classes = [StaffOrApiKey]

    @extend_schema_serializer(component_name="SessionAssignInput")
    class InputSerializer(serializers.Serializer):
        assignee_id = serializers.IntegerField(
            allow_null=True,
            help_text="Id of an active staff user; null hands the session back to the AI.",
        )

    @extend_schema(
        summary="Assign a session",
        description=(
            "Staff or an API key (`write`): `assignee_id` is an active staff user's id (400 "
            "`invalid_field` otherwise); `null` hands the session back to the AI, as "
            "`/release/` does. A closed session is 409 `session_closed`."
        ),
        request=InputSerializer,
        responses=SessionSerializer,
        examples=[
            OpenApiExample("To an agent", value={"assignee_id": 7}, request_only=True),
            OpenApiExample("Back to the AI", value={"assignee_id": None}, request_only=True),
        ],
    )
    def post(self, request, session_id: str):
        session = session_for_request(request, session_id)
        payload = self.InputSerializer(data=request.data or {})
        payload.is_valid(raise_exception=True)
        assignee_id = payload.validated_data["assignee_id"]
        if assignee_id is None:
            service_call(services.session_release, session_id=session.pk, **actor_kwargs(request))
        else:
            assignee = (
                get_user_model()
                .objects.filter(pk=assignee_id, is_staff=True, is_active=True)
                .first()
            )
            if assignee is None:
                raise ApiError("invalid_field", "assignee_id: no such staff user.")
            service_call(
                services.session_assign,
                session_id=session.pk,
                assignee=assignee,
                **actor_kwargs(request),
            )
        return Response(SessionSerializer(selectors.session_get(session_id=session.pk)).data)


class SessionReleaseApi(APIView):
    """POST: hand the session back to the AI assistant."""

    permission_classes = [StaffOrApiKey]

    @extend_schema(
        summary="Release a session to the AI",
        description=(
            "Staff or an API key (`write`): the session becomes `open`, unassigned, and the AI "
            "answers the customer again. Releasing an AI-handled open session changes nothing; "
            "a closed one is 409 `session_closed`."
        ),
        request=None,
        responses=SessionSerializer,
    )
    def post(self, request, session_id: str):
        session = session_for_request(request, session_id)
        service_call(services.session_release, session_id=session.pk, actor=request_actor(request))
        return Response(SessionSerializer(selectors.session_get(session_id=session.pk)).data)


class SessionReopenApi(APIView):
    """POST: reopen a closed session."""

    permission_classes = [StaffOrApiKey]

    @extend_schema(
        summary="Reopen a closed session",
        description=(
            "Staff or an API key (`write`). A session a person was handling reopens as "
            "`escalated`, still theirs (or in the queue if they can no longer sign in); one the "
            "AI was handling reopens as `open` and the AI answers again. Reopening a session "
            "that is not closed changes nothing."
        ),
        request=None,
        responses=SessionSerializer,
    )
    def post(self, request, session_id: str):
        session = session_for_request(request, session_id)
        service_call(services.session_reopen, session_id=session.pk, **actor_kwargs(request))
        return Response(SessionSerializer(selectors.session_get(session_id=session.pk)).data)


class SessionRateApi(APIView):
    """POST the customer's 1–5 rating once the session is closed."""

    permission_classes = [permissions.AllowAny]

    @extend_schema_serializer(component_name="SessionRateInput")
    class InputSerializer(serializers.Serializer):
        csat = serializers.IntegerField(min_value=1, max_value=5)
        comment = DisplayNameField(
            max_length=CSAT_COMMENT_MAX_CHARS,
            required=False,
            allow_blank=True,
            default="",
            help_text=f"Optional words with the rating, at most {CSAT_COMMENT_MAX_CHARS} "
            "characters.",
        )

    @extend_schema(
        summary="Rate a closed session",
        description=(
            "Only the session's customer (staff and API keys: 403) rates it from 1 to 5, once, "
            "after it is closed, with an optional `comment`: 409 "
            "`invalid_transition` before that, 409 `already_rated` a second time."
        ),
        request=InputSerializer,
        responses=SessionSerializer,
        examples=[
            OpenApiExample("Five stars", value={"csat": 5}, request_only=True),
            OpenApiExample(
                "With a comment",
                value={"csat": 4, "comment": "Quick and friendly, thanks!"},
                request_only=True,
            ),
        ],
    )
    def post(self, request, session_id: str):
        # The rating is the customer's verdict: staff or an integration must not skew CSAT.
        session = customer_session_for_request(
            request, session_id, "Only the session's customer rates it."
        )
        payload = self.InputSerializer(data=request.data or {})
        payload.is_valid(raise_exception=True)
        service_call(
            services.session_rate,
            session_id=session.pk,
            csat=payload.validated_data["csat"],
            comment=payload.validated_data["comment"],
        )
        data = SessionSerializer(selectors.session_get(session_id=session.pk)).data
        return Response(customer_view(data))  # only the customer rates


class SessionEmailApi(APIView):
    """POST: the customer leaves an email address to hear of replies while away."""

    permission_classes = [permissions.AllowAny]  # access is decided by session_for_request

    @extend_schema_serializer(component_name="SessionEmailInput")
    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField(max_length=254)

    @extend_schema(
        summary="Leave an email address",
        description=(
            "Only the session's customer (staff and API keys: 403; they edit the contact "
            "instead). Stores the address on the session: when an agent answers while the "
            "customer has no chat open, an email with a link back to the conversation goes "
            "there. A closed session is 409 `session_closed`; a malformed address 400."
        ),
        request=InputSerializer,
        responses=SessionSerializer,
        examples=[OpenApiExample("Email", value={"email": "casey@example.com"}, request_only=True)],
    )
    def post(self, request, session_id: str):
        session = customer_session_for_request(
            request, session_id, "Only the session's customer leaves an address here."
        )
        payload = self.InputSerializer(data=request.data if isinstance(request.data, dict) else {})
        payload.is_valid(raise_exception=True)
        service_call(
            services.session_set_customer_email,
            session_id=session.pk,
            email=payload.validated_data["email"],
        )
        data = SessionSerializer(selectors.session_get(session_id=session.pk)).data
        return Response(customer_view(data))  # only the customer leaves an address


class SessionEventsApi(APIView):
    """GET the session's audit trail: who changed its status, assignee or team, and when."""

    permission_classes = [StaffOrApiKey]

    @extend_schema(
        summary="List a session's audit trail",
        description=(
            "Each change of the session's status, assignee or team (and any other audited "
            f"field), oldest first, at most {selectors.SESSION_EVENTS_LIMIT}. `actor` is the "
            "person's name, `API key <name>`, or `System` (automatic routing, the AI)."
        ),
        responses=SessionEventSerializer(many=True),
    )
    def get(self, request, session_id: str):
        session = session_for_request(request, session_id)
        events = selectors.session_events(session_id=session.pk)
        return Response(SessionEventSerializer(events, many=True).data)
