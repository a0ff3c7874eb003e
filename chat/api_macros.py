"""REST endpoints of macros (/api/v1/macros/…), applying them, rendered canned replies."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apikeys.permissions import StaffOrApiKey
from sessions_app.authentication import request_actor, request_api_key_name, session_for_request
from sessions_app.exceptions import AlreadyAssigned, InvalidTransition, SessionClosed, SessionError
from sessions_app.models import Priority
from sessions_app.selectors import session_get
from sessions_app.serializers import LabelSerializer, SessionSerializer
from sessions_app.triage import UnknownLabels, labels_by_names
from supportdesk.api import ApiError, Conflict, PageQuerySerializer, Pagination

from . import canned as canned_service
from . import macros as macro_service
from .api_canned import canned_call
from .exceptions import MessageRejected
from .models import Macro, MacroStatus
from .placeholders import PLACEHOLDERS
from .serializers import StaffMessageSerializer, message_payload


def macro_call(function, **kwargs):
    """Run a macro function, turning domain errors into API errors."""
    try:
        return function(**kwargs)
    except (macro_service.MacroNotFound, macro_service.MacroNameTaken) as error:
        raise ApiError(error.code, error.detail, error.status) from None
    except (SessionClosed, AlreadyAssigned, InvalidTransition) as error:
        raise Conflict(error.code, error.detail) from None
    except MessageRejected as error:
        raise ApiError(error.code, error.detail, 413 if error.code == "too_long" else 400) from None
    except (macro_service.MacroError, SessionError) as error:
        raise ApiError(error.code, error.detail) from None


class MacroSerializer(serializers.ModelSerializer):
    labels = LabelSerializer(many=True, read_only=True)

    class Meta:
        model = Macro
        fields = ["id", "name", "body", "labels", "priority", "status", "created_at", "updated_at"]
        read_only_fields = fields


PLACEHOLDER_HELP = "Placeholders: " + ", ".join("{{" + name + "}}" for name in PLACEHOLDERS)


class MacroInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    body = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text=f"The reply sent, if any. {PLACEHOLDER_HELP}; a fallback after `|`.",
    )
    labels = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        max_length=20,
        help_text="Names of existing labels the macro adds.",
    )
    priority = serializers.ChoiceField(
        choices=[("", "Leave as is"), *Priority.choices], required=False, default=""
    )
    status = serializers.ChoiceField(choices=MacroStatus.choices, required=False, default="")

    def validate_body(self, value: str) -> str:
        try:
            return macro_service.text_validate(value)
        except macro_service.MacroError as error:
            raise serializers.ValidationError(error.detail) from None

    def validate_labels(self, value: list[str]):
        try:
            return labels_by_names(value)
        except UnknownLabels as error:
            raise serializers.ValidationError(error.detail) from None


def _json_object(request) -> dict:
    if not isinstance(request.data, dict):
        raise ApiError("invalid_field", "The body must be a JSON object.")
    return request.data


class MacroListApi(APIView):
    """GET: list macros. POST: create one."""

    permission_classes = [StaffOrApiKey]
    pagination_class = Pagination
    may_conflict = True

    @extend_schema(
        summary="List macros",
        description="Staff or an API key (`read`), by name. Paginated (`limit`, `offset`).",
        parameters=[PageQuerySerializer],
        responses=MacroSerializer(many=True),
    )
    def get(self, request):
        PageQuerySerializer(data=request.query_params).is_valid(raise_exception=True)
        paginator = Pagination()
        page = paginator.paginate_queryset(macro_service.macros_list(), request, view=self)
        return paginator.get_paginated_response(MacroSerializer(page, many=True).data)

    @extend_schema(
        summary="Create a macro",
        description=(
            "Staff or an API key (`write`). A reply (with placeholders) and/or labels to add, "
            "a priority and a status (`escalated`, `open` = back to the AI, `closed`). An "
            "unknown placeholder or label is a 400 `invalid_field`; a name in use 409 "
            "`macro_exists`."
        ),
        request=MacroInputSerializer,
        responses={201: MacroSerializer},
        examples=[
            OpenApiExample(
                "Refund policy and close",
                value={
                    "name": "Refund policy",
                    "body": "Hi {{customer.first_name|there}}, refunds take 5 days. {{agent.name}}",
                    "labels": ["refund"],
                    "status": "closed",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request):
        payload = MacroInputSerializer(data=_json_object(request))
        payload.is_valid(raise_exception=True)
        macro = macro_call(macro_service.macro_create, **payload.validated_data)
        return Response(
            MacroSerializer(macro_service.macro_get(macro_id=macro.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class MacroDetailApi(APIView):
    """GET, PATCH or DELETE one macro."""

    permission_classes = [StaffOrApiKey]

    def _get(self, macro_id: int) -> Macro:
        return macro_call(macro_service.macro_get, macro_id=macro_id)

    @extend_schema(
        summary="Get a macro",
        description="Staff or an API key (`read`). Unknown: 404 `macro_not_found`.",
        responses=MacroSerializer,
    )
    def get(self, request, macro_id: int):
        return Response(MacroSerializer(self._get(macro_id)).data)

    @extend_schema(
        summary="Update a macro",
        description="Staff or an API key (`write`); `labels`, when given, replaces the list.",
        request=MacroInputSerializer(partial=True),
        responses=MacroSerializer,
    )
    def patch(self, request, macro_id: int):
        macro = self._get(macro_id)
        payload = MacroInputSerializer(data=_json_object(request), partial=True)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        macro_call(macro_service.macro_update, macro=macro, labels=data.pop("labels", None), **data)
        return Response(MacroSerializer(self._get(macro_id)).data)

    @extend_schema(
        summary="Delete a macro",
        description="Staff or an API key (`write`).",
        responses={204: None},
    )
    def delete(self, request, macro_id: int):
        macro_call(macro_service.macro_delete, macro=self._get(macro_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MacroAppliedSerializer(serializers.Serializer):
    session = SessionSerializer()
    message = StaffMessageSerializer(allow_null=True)


class MacroApplyApi(APIView):
    """POST: apply a macro to a session."""

    permission_classes = [StaffOrApiKey]

    @extend_schema(
        summary="Apply a macro to a session",
        description=(
            "Staff or an API key (`write`). Sends the macro's reply (placeholders filled in; a "
            "staff user replying to an unassigned session takes it over, as in the console), "
            "adds its labels, sets its priority, then its status — all or nothing. Another "
            "agent's session is 409 `already_assigned`; a closed one 409 `session_closed`."
        ),
        request=None,
        responses=MacroAppliedSerializer,
    )
    def post(self, request, session_id: str, macro_id: int):
        session = session_for_request(request, session_id)
        macro = macro_call(macro_service.macro_get, macro_id=macro_id)
        result = macro_call(
            macro_service.macro_apply,
            macro=macro,
            session_id=session.pk,
            user=request_actor(request),
            api_key_name=request_api_key_name(request),
        )
        return Response(
            {
                "session": SessionSerializer(session_get(session_id=session.pk)).data,
                "message": message_payload(result.message, for_staff=True) if result else None,
            }
        )


class CannedRenderedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    shortcut = serializers.CharField()
    text = serializers.CharField(help_text="The body with the session's placeholders filled in.")


class CannedRenderApi(APIView):
    """GET a canned response rendered for a session (its placeholders filled in)."""

    permission_classes = [StaffOrApiKey]

    @extend_schema(
        summary="Render a canned response for a session",
        description=(
            "Staff or an API key (`read`): the body with `{{customer.name}}`, `{{agent.name}}` "
            "(the caller; empty for an API key), `{{article.url}}` … filled in. Plain text "
            "substitution only: nothing in a body is run as a template."
        ),
        responses=CannedRenderedSerializer,
    )
    def get(self, request, session_id: str, canned_id: int):
        session = session_for_request(request, session_id)
        canned = canned_call(canned_service.canned_response_get, canned_id=canned_id)
        text = macro_service.canned_render(
            canned=canned, session_id=session.pk, user=request_actor(request)
        )
        return Response({"id": canned.pk, "shortcut": canned.shortcut, "text": text})
