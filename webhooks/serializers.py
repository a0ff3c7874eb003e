"""JSON shapes of webhook endpoints and deliveries in the REST API."""

from __future__ import annotations

from rest_framework import serializers

from .guard import UnsafeTarget, url_validate
from .models import DeliveryStatus, EventType, WebhookAttempt, WebhookDelivery, WebhookEndpoint


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices))

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "is_active",
            "disabled_reason",
            "disabled_at",
            "consecutive_failures",
            "total_failures",
            "last_success_at",
            "last_failure_at",
            "created_at",
        ]
        read_only_fields = fields


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        help_text="Signs every delivery. Returned only here, once: store it now."
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointInputSerializer(serializers.Serializer):
    url = serializers.CharField(
        max_length=2000,
        help_text="http(s) URL of a public address (no credentials in it). Loopback, private, "
        "link-local and other non-public targets are refused.",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices),
        min_length=1,
        help_text="Event types to receive.",
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(
        required=False, help_text="false disables the endpoint; true re-enables it."
    )

    def validate_url(self, value: str) -> str:
        try:
            return url_validate(value)
        except UnsafeTarget as error:
            raise serializers.ValidationError(str(error)) from None

    def validate_events(self, value: list[str]) -> list[str]:
        return [event for event in EventType.values if event in value]


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = [
            "number",
            "started_at",
            "status_code",
            "duration_ms",
            "response_excerpt",
            "error",
        ]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)
    redelivery_of = serializers.UUIDField(source="redelivery_of_id", allow_null=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "next_attempt_at",
            "created_at",
            "completed_at",
            "redelivery_of",
            "payload",
            "attempt_log",
        ]
        read_only_fields = fields


class WebhookDeliveryFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, required=False)
    event_type = serializers.ChoiceField(choices=EventType.choices, required=False)
