"""REST endpoints of the session lifecycle (/api/v1/sessions/…): thin views over services."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apikeys.permissions import StaffOrApiKey
from supportdesk.api import ApiError, Conflict, Pagination
from supportdesk.clientip import client_ip
from supportdesk.throttling import RateThrottle

from . import selectors, services
from .authentication import request_actor, session_for_request
from .exceptions import (
    AlreadyAssigned,
    InvalidTransition,
    SessionClosed,
    SessionError,
    WidgetError,
)
from .identity import MAX_USER_ID_CHARS
from .models import HandledBy, SessionStatus
from .serializers import DisplayNameField, SessionSerializer

logger = logging.getLogger(__name__)


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


class SessionListApi(APIView):
    """POST: open a session (anyone, throttled). GET: list sessions (staff)."""

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

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=SessionStatus.choices, required=False)
        handled_by = serializers.ChoiceField(choices=HandledBy.choices, required=False)

    def get_permissions(self):
        if self.request.method == "POST":
            return [permissions.AllowAny()]
        return [StaffOrApiKey()]

    def get_throttles(self):
        throttles = super().get_throttles()  # per key / token / IP, as everywhere
        return [*throttles, SessionCreateThrottle()] if self.request.method == "POST" else throttles

    @extend_schema(request=InputSerializer, responses={201: SessionCreatedSerializer}, auth=[])
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

    @extend_schema(parameters=[FilterSerializer], responses=SessionSerializer(many=True))
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = selectors.sessions_list(**filters.validated_data)
        paginator = Pagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(SessionSerializer(page, many=True).data)


class SessionDetailApi(APIView):
    """GET the session (its customer, staff)."""

    permission_classes = [permissions.AllowAny]  # access is decided by session_for_request

    @extend_schema(responses=SessionSerializer)
    def get(self, request, session_id: str):
        session = session_for_request(request, session_id)
        return Response(SessionSerializer(session).data)


class SessionEscalateApi(APIView):
    permission_classes = [StaffOrApiKey]

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=200, required=False, default="staff_request")

    @extend_schema(request=InputSerializer, responses=SessionSerializer)
    def post(self, request, session_id: str):
        session = session_for_request(request, session_id)
        payload = self.InputSerializer(data=request.data or {})
        payload.is_valid(raise_exception=True)
        session = service_call(
            services.session_escalate,
            session_id=session.pk,
            reason=payload.validated_data["reason"],
            actor=request_actor(request),
        )
        return Response(SessionSerializer(selectors.session_get(session_id=session.pk)).data)


class SessionCloseApi(APIView):
    permission_classes = [StaffOrApiKey]

    @extend_schema(request=None, responses=SessionSerializer)
    def post(self, request, session_id: str):
        session = session_for_request(request, session_id)
        service_call(services.session_close, session_id=session.pk, actor=request_actor(request))
        return Response(SessionSerializer(selectors.session_get(session_id=session.pk)).data)


class SessionAssignApi(APIView):
    permission_classes = [StaffOrApiKey]

    class InputSerializer(serializers.Serializer):
        assignee_id = serializers.IntegerField(allow_null=True)

    @extend_schema(request=InputSerializer, responses=SessionSerializer)
    def post(self, request, session_id: str):
        session = session_for_request(request, session_id)
        payload = self.InputSerializer(data=request.data or {})
        payload.is_valid(raise_exception=True)
        assignee_id = payload.validated_data["assignee_id"]
        if assignee_id is None:
            service_call(
                services.session_release, session_id=session.pk, actor=request_actor(request)
            )
        else:
            assignee = get_user_model().objects.filter(pk=assignee_id, is_staff=True).first()
            if assignee is None:
                raise ApiError("invalid_field", "assignee_id: no such staff user.")
            service_call(
                services.session_assign,
                session_id=session.pk,
                assignee=assignee,
                actor=request_actor(request),
            )
        return Response(SessionSerializer(selectors.session_get(session_id=session.pk)).data)


class SessionRateApi(APIView):
    """POST the customer's 1–5 rating once the session is closed."""

    permission_classes = [permissions.AllowAny]

    class InputSerializer(serializers.Serializer):
        csat = serializers.IntegerField(min_value=1, max_value=5)

    @extend_schema(request=InputSerializer, responses=SessionSerializer)
    def post(self, request, session_id: str):
        session = session_for_request(request, session_id)
        payload = self.InputSerializer(data=request.data or {})
        payload.is_valid(raise_exception=True)
        service_call(
            services.session_rate, session_id=session.pk, csat=payload.validated_data["csat"]
        )
        return Response(SessionSerializer(selectors.session_get(session_id=session.pk)).data)
