"""Webhook reads: endpoints and their delivery log."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import WebhookDelivery, WebhookEndpoint


def endpoints_list() -> QuerySet[WebhookEndpoint]:
    """Return every endpoint, newest first."""
    return WebhookEndpoint.objects.order_by("-created_at", "-pk")


def endpoint_get(*, endpoint_id: int) -> WebhookEndpoint:
    """Return one endpoint (WebhookEndpoint.DoesNotExist if unknown)."""
    return WebhookEndpoint.objects.get(pk=endpoint_id)


def deliveries_list(
    *, endpoint_id: int, status: str | None = None, event_type: str | None = None
) -> QuerySet[WebhookDelivery]:
    """Return an endpoint's deliveries, newest first, with their attempts prefetched."""
    deliveries = WebhookDelivery.objects.filter(endpoint_id=endpoint_id)
    if status:
        deliveries = deliveries.filter(status=status)
    if event_type:
        deliveries = deliveries.filter(event_type=event_type)
    return deliveries.order_by("-created_at").prefetch_related("attempt_log")


def delivery_get(*, endpoint_id: int, delivery_id) -> WebhookDelivery:
    """Return one of an endpoint's deliveries (WebhookDelivery.DoesNotExist if unknown)."""
    return WebhookDelivery.objects.get(pk=delivery_id, endpoint_id=endpoint_id)
