"""Admin for webhooks: endpoints (secret shown once), the delivery log, redelivery."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from .guard import UnsafeTarget, url_validate
from .models import EventType, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .services import EndpointDisabled, delivery_redeliver, endpoint_create, endpoint_update

EDITABLE = ["url", "description", "events", "is_active"]


class EndpointForm(forms.ModelForm):
    # A CharField: the SSRF guard (clean_url) is the validator, with its own clear messages.
    url = forms.CharField(max_length=2000, help_text="A public http(s) URL.")
    events = forms.MultipleChoiceField(
        choices=EventType.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookEndpoint
        fields = EDITABLE

    def clean_url(self):
        try:
            return url_validate(self.cleaned_data["url"])
        except UnsafeTarget as error:
            raise forms.ValidationError(str(error)) from None


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = [
        "url",
        "event_list",
        "is_active",
        "disabled_reason",
        "consecutive_failures",
        "last_success_at",
        "created_at",
    ]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]
    readonly_fields = [
        "disabled_reason",
        "disabled_at",
        "consecutive_failures",
        "total_failures",
        "last_success_at",
        "last_failure_at",
        "created_at",
    ]

    @admin.display(description="events")
    def event_list(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.events)

    def save_model(self, request, obj, form, change):
        # One path (the services) for the admin and the API: secret, re-enable resets.
        data = {field: form.cleaned_data[field] for field in EDITABLE if field in form.cleaned_data}
        if change:
            updated = endpoint_update(endpoint_id=obj.pk, **data)
            obj.__dict__.update(
                {f.attname: getattr(updated, f.attname) for f in updated._meta.concrete_fields}
            )
            return
        created = endpoint_create(**data)
        obj.pk = created.endpoint.pk
        obj.__dict__.update(
            {f.attname: getattr(created.endpoint, f.attname) for f in obj._meta.concrete_fields}
        )
        self.message_user(
            request,
            f"Copy this signing secret now, it will not be shown again: {created.secret}",
            level=messages.WARNING,
        )


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ["number", "started_at", "status_code", "duration_ms", "error", "response_excerpt"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "created_at",
        "completed_at",
    ]
    list_filter = ["status", "event_type", "endpoint"]
    search_fields = ["id", "event_id"]
    list_select_related = ["endpoint"]
    date_hierarchy = "created_at"
    inlines = [AttemptInline]
    actions = ["redeliver"]
    readonly_fields = [
        "id",
        "endpoint",
        "event_id",
        "event_type",
        "status",
        "attempts",
        "next_attempt_at",
        "redelivery_of",
        "created_at",
        "completed_at",
        "payload",
    ]
    fields = readonly_fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a log: read-only (view permission still shows it)

    @admin.action(description="Redeliver the selected deliveries", permissions=["view"])
    def redeliver(self, request, queryset):
        sent, refused = 0, 0
        for delivery_id in queryset.values_list("pk", flat=True):
            try:
                delivery_redeliver(delivery_id=delivery_id)
                sent += 1
            except EndpointDisabled:
                refused += 1
        self.message_user(request, f"Queued {sent} redelivery(ies).")
        if refused:
            self.message_user(
                request,
                f"{refused} not redelivered: their endpoint is disabled (re-enable it first).",
                level=messages.WARNING,
            )
