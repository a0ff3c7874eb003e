"""REST endpoints of canned responses (/api/v1/canned-responses/…): thin views over chat.canned."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apikeys.permissions import StaffOrApiKey
from supportdesk.api import ApiError, Conflict, PageQuerySerializer, Pagination
from supportdesk.conf import app_setting

from . import canned as canned_service
from .models import CannedResponse
from .placeholders import placeholders_check


def canned_call(function, **kwargs):
    """Run a canned-response function, turning its domain errors into API errors."""
    try:
        return function(**kwargs)
    except canned_service.ShortcutTaken as error:
        raise Conflict(error.code, error.detail) from None
    except canned_service.CannedResponseNotFound as error:
        raise ApiError(error.code, error.detail, status.HTTP_404_NOT_FOUND) from None


class CannedResponseSerializer(serializers.ModelSerializer):
    class Meta:
        model = CannedResponse
        fields = ["id", "shortcut", "title", "body", "created_at", "updated_at"]
        read_only_fields = fields


class CannedResponseInputSerializer(serializers.Serializer):
    shortcut = serializers.SlugField(
        max_length=40, help_text="Typed after `/` in the console; unique."
    )
    title = serializers.CharField(max_length=120)
    body = serializers.CharField(
        help_text="Placeholders {{customer.name}}, {{customer.first_name}}, {{customer.email}}, "
        "{{agent.name}}, {{agent.first_name}}, {{article.title}}, {{article.url}}; a fallback "
        "after `|`, e.g. {{customer.first_name|there}}."
    )

    def validate_body(self, value: str) -> str:
        # The body is sent as an agent's reply: it must fit in one.
        limit = int(app_setting("CHAT_MAX_MESSAGE_CHARS"))
        if len(value) > limit:
            raise serializers.ValidationError(f"longer than {limit} characters.")
        problems = placeholders_check(value)
        if problems:
            # Only the known placeholders are ever replaced (chat/placeholders.py).
            raise serializers.ValidationError("; ".join(problems) + ".")
        return value


def _json_object(request) -> dict:
    if not isinstance(request.data, dict):
        raise ApiError("invalid_field", "The body must be a JSON object.")
    return request.data


class CannedResponseListApi(APIView):
    """GET: list canned responses. POST: create one."""

    pagination_class = Pagination  # so the schema shows the {count, next, previous, results} page
    may_conflict = True  # the schema documents 409 shortcut_taken for a create

    permission_classes = [StaffOrApiKey]

    @extend_schema(
        summary="List canned responses",
        description="Staff or an API key (`read`), by shortcut. Paginated (`limit`, `offset`).",
        parameters=[PageQuerySerializer],
        responses=CannedResponseSerializer(many=True),
    )
    def get(self, request):
        PageQuerySerializer(data=request.query_params).is_valid(raise_exception=True)
        paginator = Pagination()
        page = paginator.paginate_queryset(
            canned_service.canned_responses_list(), request, view=self
        )
        return paginator.get_paginated_response(CannedResponseSerializer(page, many=True).data)

    @extend_schema(
        summary="Create a canned response",
        description=(
            "Staff or an API key (`write`). A shortcut already in use is 409 `shortcut_taken`."
        ),
        request=CannedResponseInputSerializer,
        responses={201: CannedResponseSerializer},
    )
    def post(self, request):
        payload = CannedResponseInputSerializer(data=_json_object(request))
        payload.is_valid(raise_exception=True)
        canned = canned_call(canned_service.canned_response_create, **payload.validated_data)
        return Response(CannedResponseSerializer(canned).data, status=status.HTTP_201_CREATED)


class CannedResponseDetailApi(APIView):
    """GET, PATCH or DELETE one canned response."""

    permission_classes = [StaffOrApiKey]

    def _get(self, canned_id: int) -> CannedResponse:
        return canned_call(canned_service.canned_response_get, canned_id=canned_id)

    @extend_schema(
        summary="Get a canned response",
        description="Staff or an API key (`read`). Unknown: 404 `canned_response_not_found`.",
        responses=CannedResponseSerializer,
    )
    def get(self, request, canned_id: int):
        return Response(CannedResponseSerializer(self._get(canned_id)).data)

    @extend_schema(
        summary="Update a canned response",
        description="Staff or an API key (`write`); a shortcut in use is 409 `shortcut_taken`.",
        request=CannedResponseInputSerializer(partial=True),
        responses=CannedResponseSerializer,
    )
    def patch(self, request, canned_id: int):
        canned = self._get(canned_id)
        payload = CannedResponseInputSerializer(data=_json_object(request), partial=True)
        payload.is_valid(raise_exception=True)
        canned = canned_call(
            canned_service.canned_response_update, canned=canned, **payload.validated_data
        )
        return Response(CannedResponseSerializer(canned).data)

    @extend_schema(
        summary="Delete a canned response",
        description="Staff or an API key (`write`).",
        responses={204: None},
    )
    def delete(self, request, canned_id: int):
        canned_call(canned_service.canned_response_delete, canned=self._get(canned_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
