"""REST endpoints of outgoing webhooks (/api/v1/webhooks/…): thin views over services."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from apikeys.permissions import StaffOrApiKey
from supportdesk.api import ApiError, Conflict, Pagination

from . import selectors, services
from .models import WebhookDelivery, WebhookEndpoint
from .serializers import (
    WebhookDeliveryFilterSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointCreatedSerializer,
    WebhookEndpointInputSerializer,
    WebhookEndpointSerializer,
)

TAGS = ["webhooks"]


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    try:
        return selectors.endpoint_get(endpoint_id=endpoint_id)
    except WebhookEndpoint.DoesNotExist:
        raise ApiError(
            "webhook_not_found", "No such webhook endpoint.", status.HTTP_404_NOT_FOUND
        ) from None


class WebhookListApi(APIView):
    """GET: list webhook endpoints. POST: create one (its secret is returned once)."""

    permission_classes = [StaffOrApiKey]
    pagination_class = Pagination  # also tells drf-spectacular the list is paginated

    @extend_schema(
        tags=TAGS,
        summary="List webhook endpoints",
        description="Every endpoint, newest first, with its failure counters and, when "
        "disabled, why. Secrets are never listed.",
        responses=WebhookEndpointSerializer(many=True),
    )
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.endpoints_list(), request, view=self)
        return paginator.get_paginated_response(WebhookEndpointSerializer(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        summary="Create a webhook endpoint",
        description="Subscribes a public http(s) URL to event types. The response carries "
        "`secret`, used to verify `X-Supportdesk-Signature`; it is returned only here.",
        request=WebhookEndpointInputSerializer,
        responses={201: WebhookEndpointCreatedSerializer},
    )
    def post(self, request):
        payload = WebhookEndpointInputSerializer(
            data=request.data if isinstance(request.data, dict) else {}
        )
        payload.is_valid(raise_exception=True)
        created = services.endpoint_create(**payload.validated_data)
        data = WebhookEndpointCreatedSerializer(created.endpoint).data
        data["secret"] = created.secret
        return Response(data, status=status.HTTP_201_CREATED)


class WebhookDetailApi(APIView):
    """GET, PUT, PATCH or DELETE one webhook endpoint."""

    permission_classes = [StaffOrApiKey]

    @extend_schema(tags=TAGS, summary="Get a webhook endpoint", responses=WebhookEndpointSerializer)
    def get(self, request, endpoint_id: int):
        return Response(WebhookEndpointSerializer(_endpoint(endpoint_id)).data)

    def _update(self, request, endpoint_id: int, *, partial: bool):
        endpoint = _endpoint(endpoint_id)
        data = request.data if isinstance(request.data, dict) else {}
        payload = WebhookEndpointInputSerializer(data=data, partial=partial)
        payload.is_valid(raise_exception=True)
        endpoint = services.endpoint_update(endpoint_id=endpoint.pk, **payload.validated_data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(
        tags=TAGS,
        summary="Replace a webhook endpoint",
        description="url and events are required. `is_active: true` re-enables a disabled "
        "endpoint and resets its consecutive failures.",
        request=WebhookEndpointInputSerializer,
        responses=WebhookEndpointSerializer,
    )
    def put(self, request, endpoint_id: int):
        return self._update(request, endpoint_id, partial=False)

    @extend_schema(
        tags=TAGS,
        summary="Change a webhook endpoint",
        description="Any of url, events, description, is_active. `is_active: true` "
        "re-enables a disabled endpoint and resets its consecutive failures.",
        request=WebhookEndpointInputSerializer,
        responses=WebhookEndpointSerializer,
    )
    def patch(self, request, endpoint_id: int):
        return self._update(request, endpoint_id, partial=True)

    @extend_schema(
        tags=TAGS,
        summary="Delete a webhook endpoint",
        description="Deletes the endpoint and its delivery log; pending retries are dropped.",
        responses={204: OpenApiResponse(description="Deleted.")},
    )
    def delete(self, request, endpoint_id: int):
        services.endpoint_delete(endpoint_id=_endpoint(endpoint_id).pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryListApi(APIView):
    """GET an endpoint's deliveries with every attempt (status code, duration, excerpt)."""

    permission_classes = [StaffOrApiKey]
    pagination_class = Pagination

    @extend_schema(
        tags=TAGS,
        summary="List an endpoint's deliveries",
        description="Newest first; each with its payload and attempt log. Filter by "
        "`status` and `event_type`.",
        parameters=[WebhookDeliveryFilterSerializer],
        responses=WebhookDeliverySerializer(many=True),
    )
    def get(self, request, endpoint_id: int):
        endpoint = _endpoint(endpoint_id)
        filters = WebhookDeliveryFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        deliveries = selectors.deliveries_list(endpoint_id=endpoint.pk, **filters.validated_data)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(deliveries, request, view=self)
        return paginator.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


class WebhookRedeliverApi(APIView):
    """POST: send a delivery's event again, as a new delivery with the same event id."""

    permission_classes = [StaffOrApiKey]

    @extend_schema(
        tags=TAGS,
        summary="Redeliver an event",
        description="Queues a new delivery of the same event (same `id` in the body, new "
        "`X-Supportdesk-Delivery`). 409 `endpoint_disabled` while the endpoint is disabled.",
        request=None,
        responses={202: WebhookDeliverySerializer},
    )
    def post(self, request, endpoint_id: int, delivery_id):
        endpoint = _endpoint(endpoint_id)
        try:
            selectors.delivery_get(endpoint_id=endpoint.pk, delivery_id=delivery_id)
        except WebhookDelivery.DoesNotExist:
            raise ApiError(
                "delivery_not_found", "No such delivery.", status.HTTP_404_NOT_FOUND
            ) from None
        try:
            delivery = services.delivery_redeliver(delivery_id=delivery_id)
        except services.EndpointDisabled as error:
            raise Conflict(error.code, error.detail) from None
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
