"""REST endpoints of triage: a session's priority, labels and snooze; the label catalogue."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apikeys.permissions import StaffOrApiKey
from supportdesk.api import ApiError, Conflict, PageQuerySerializer, Pagination

from . import selectors, triage
from .authentication import request_actor, request_api_key_name, session_for_request
from .exceptions import (
    InvalidSnooze,
    LabelNotFound,
    LabelTaken,
    SessionClosed,
    SessionError,
)
from .models import Label, Priority
from .serializers import LabelSerializer, SessionSerializer


def triage_call(function, **kwargs):
    """Run a triage service, turning its domain errors into API errors."""
    try:
        return function(**kwargs)
    except (SessionClosed, LabelTaken) as error:
        raise Conflict(error.code, error.detail) from None
    except LabelNotFound as error:
        raise ApiError(error.code, error.detail, status.HTTP_404_NOT_FOUND) from None
    except (InvalidSnooze, SessionError) as error:
        raise ApiError(error.code, error.detail) from None


def _json_object(request) -> dict:
    if not isinstance(request.data, dict):
        raise ApiError("invalid_field", "The body must be a JSON object.")
    return request.data


def _session_answer(session_id) -> Response:
    return Response(SessionSerializer(selectors.session_get(session_id=session_id)).data)


class SessionPriorityApi(APIView):
    """POST: set a session's priority."""

    permission_classes = [StaffOrApiKey]

    @extend_schema_serializer(component_name="SessionPriorityInput")
    class InputSerializer(serializers.Serializer):
        priority = serializers.ChoiceField(choices=Priority.choices)

    @extend_schema(
        summary="Set a session's priority",
        description="Staff or an API key (`write`): `none`, `low`, `high` or `urgent`.",
        request=InputSerializer,
        responses=SessionSerializer,
        examples=[OpenApiExample("Urgent", value={"priority": "urgent"}, request_only=True)],
    )
    def post(self, request, session_id: str):
        session = session_for_request(request, session_id)
        payload = self.InputSerializer(data=_json_object(request))
        payload.is_valid(raise_exception=True)
        triage_call(
            triage.session_set_priority,
            session_id=session.pk,
            priority=payload.validated_data["priority"],
            actor=request_actor(request),
            api_key_name=request_api_key_name(request),
        )
        return _session_answer(session.pk)


class SessionLabelsApi(APIView):
    """POST: replace a session's labels."""

    permission_classes = [StaffOrApiKey]

    @extend_schema_serializer(component_name="SessionLabelsInput")
    class InputSerializer(serializers.Serializer):
        labels = serializers.ListField(
            child=serializers.CharField(max_length=40),
            max_length=triage.MAX_LABELS_PER_SESSION,
            help_text="Names of existing labels (any case); the session's labels become these.",
        )

    @extend_schema(
        summary="Set a session's labels",
        description=(
            "Staff or an API key (`write`). Replaces the session's labels with the named ones "
            f"(at most {triage.MAX_LABELS_PER_SESSION}); an unknown name is a 400 "
            "`invalid_field` naming it. `[]` removes them all."
        ),
        request=InputSerializer,
        responses=SessionSerializer,
        examples=[OpenApiExample("Two", value={"labels": ["refund", "vip"]}, request_only=True)],
    )
    def post(self, request, session_id: str):
        session = session_for_request(request, session_id)
        payload = self.InputSerializer(data=_json_object(request))
        payload.is_valid(raise_exception=True)
        labels = triage_call(triage.labels_by_names, names=payload.validated_data["labels"])
        triage_call(
            triage.session_set_labels,
            session_id=session.pk,
            labels=labels,
            actor=request_actor(request),
            api_key_name=request_api_key_name(request),
        )
        return _session_answer(session.pk)


class SessionSnoozeApi(APIView):
    """POST: snooze a session until a time."""

    permission_classes = [StaffOrApiKey]

    @extend_schema_serializer(component_name="SessionSnoozeInput")
    class InputSerializer(serializers.Serializer):
        until = serializers.DateTimeField(
            help_text="ISO 8601 with a time zone; in the future, at most 90 days ahead."
        )

    @extend_schema(
        summary="Snooze a session",
        description=(
            "Staff or an API key (`write`). The conversation leaves the inbox until `until`, "
            "when the beat sweep brings it back (within `SNOOZE_SWEEP_INTERVAL` seconds), or "
            "until the customer writes. The status does not change. A past time or one more "
            "than 90 days ahead is a 400 `invalid_field`; a closed session 409 `session_closed`."
        ),
        request=InputSerializer,
        responses=SessionSerializer,
        examples=[
            OpenApiExample("Tomorrow", value={"until": "2026-03-03T09:00:00Z"}, request_only=True)
        ],
    )
    def post(self, request, session_id: str):
        session = session_for_request(request, session_id)
        payload = self.InputSerializer(data=_json_object(request))
        payload.is_valid(raise_exception=True)
        triage_call(
            triage.session_snooze,
            session_id=session.pk,
            until=payload.validated_data["until"],
            actor=request_actor(request),
        )
        return _session_answer(session.pk)


class SessionUnsnoozeApi(APIView):
    """POST: end a session's snooze now."""

    permission_classes = [StaffOrApiKey]

    @extend_schema(
        summary="Wake a snoozed session",
        description="Staff or an API key (`write`). A session that is not snoozed is unchanged.",
        request=None,
        responses=SessionSerializer,
    )
    def post(self, request, session_id: str):
        session = session_for_request(request, session_id)
        triage_call(
            triage.session_wake,
            session_id=session.pk,
            reason="staff",
            actor=request_actor(request),
        )
        return _session_answer(session.pk)


# --- Label catalogue ------------------------------------------------------------------------


class LabelInputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Label
        fields = ["name", "color", "description"]
        extra_kwargs = {"color": {"required": False}, "description": {"required": False}}
        # Uniqueness (any case) is the service's: 409 label_exists, not a 400.
        validators = []


class LabelListApi(APIView):
    """GET: list labels. POST: create one."""

    permission_classes = [StaffOrApiKey]
    pagination_class = Pagination
    may_conflict = True

    @extend_schema(
        summary="List labels",
        description="Staff or an API key (`read`), by name. Paginated (`limit`, `offset`).",
        parameters=[PageQuerySerializer],
        responses=LabelSerializer(many=True),
    )
    def get(self, request):
        PageQuerySerializer(data=request.query_params).is_valid(raise_exception=True)
        paginator = Pagination()
        page = paginator.paginate_queryset(triage.labels_list(), request, view=self)
        return paginator.get_paginated_response(LabelSerializer(page, many=True).data)

    @extend_schema(
        summary="Create a label",
        description=(
            "Staff or an API key (`write`). `color` is `#rrggbb`. A name already used (in any "
            f"case) is 409 `label_exists`; at most {triage.MAX_LABELS} labels."
        ),
        request=LabelInputSerializer,
        responses={201: LabelSerializer},
        examples=[
            OpenApiExample(
                "Refund", value={"name": "refund", "color": "#dc2626"}, request_only=True
            )
        ],
    )
    def post(self, request):
        payload = LabelInputSerializer(data=_json_object(request))
        payload.is_valid(raise_exception=True)
        label = triage_call(triage.label_create, **payload.validated_data)
        return Response(LabelSerializer(label).data, status=status.HTTP_201_CREATED)


class LabelDetailApi(APIView):
    """GET, PATCH or DELETE one label."""

    permission_classes = [StaffOrApiKey]

    def _get(self, label_id: int) -> Label:
        return triage_call(triage.label_get, label_id=label_id)

    @extend_schema(
        summary="Get a label",
        description="Staff or an API key (`read`). Unknown: 404 `label_not_found`.",
        responses=LabelSerializer,
    )
    def get(self, request, label_id: int):
        return Response(LabelSerializer(self._get(label_id)).data)

    @extend_schema(
        summary="Update a label",
        description="Staff or an API key (`write`); a name in use is 409 `label_exists`.",
        request=LabelInputSerializer(partial=True),
        responses=LabelSerializer,
    )
    def patch(self, request, label_id: int):
        label = self._get(label_id)
        payload = LabelInputSerializer(data=_json_object(request), partial=True)
        payload.is_valid(raise_exception=True)
        label = triage_call(triage.label_update, label=label, **payload.validated_data)
        return Response(LabelSerializer(label).data)

    @extend_schema(
        summary="Delete a label",
        description="Staff or an API key (`write`): removed from every session and macro.",
        responses={204: None},
    )
    def delete(self, request, label_id: int):
        triage_call(triage.label_delete, label=self._get(label_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
