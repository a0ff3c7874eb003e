"""Admin for API keys: create (the key is shown once), list, revoke."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from .models import ApiKey, Scope
from .services import InvalidScopes, api_key_create, api_key_revoke, scopes_clean


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[Scope.READ],
        help_text="read: GET endpoints; write: everything that changes data; ops: operations.",
    )

    class Meta:
        model = ApiKey
        fields = ["name", "scopes"]

    def clean_scopes(self):
        try:
            return scopes_clean(self.cleaned_data["scopes"])
        except InvalidScopes as error:
            raise forms.ValidationError(str(error)) from None


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ["name", "prefix", "scope_list", "created_at", "last_used_at", "revoked"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    @admin.display(description="scopes")
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    @admin.display(description="revoked", boolean=True)
    def revoked(self, obj: ApiKey) -> bool:
        return obj.revoked_at is not None

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # One creation path (the service) for the admin, the command and tests.
        created = api_key_create(
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            created_by=request.user,
        )
        for field in ("pk", "prefix", "key_hash", "created_by", "created_at"):
            setattr(obj, field, getattr(created.api_key, field))
        self.message_user(
            request,
            f"Copy this API key now, it will not be shown again: {created.key}",
            level=messages.WARNING,
        )

    @admin.action(description="Revoke the selected API keys")
    def revoke(self, request, queryset):
        revoked = sum(api_key_revoke(api_key_id=pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"Revoked {revoked} API key(s) at {timezone.now():%H:%M:%S}.")

    def has_delete_permission(self, request, obj=None) -> bool:
        # Revoke instead: the row stays as the record of who had access and when.
        return False
