"""DRF permissions for staff/integration endpoints: a staff user, or an API key with a scope."""

from __future__ import annotations

from rest_framework import permissions

from .authentication import ApiKeyCredential


def required_scope(request, view=None) -> str:
    """Return the scope a request needs: the view's ``api_key_scope``, else read/write by method."""
    scope = getattr(view, "api_key_scope", None)
    if scope:
        return scope
    return "read" if request.method in permissions.SAFE_METHODS else "write"


def is_staff_user(user) -> bool:
    """Return whether ``user`` is a signed-in, active staff member."""
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


def api_key_allows(request, view=None) -> bool:
    """Return whether the request carries an API key holding the scope it needs."""
    auth = getattr(request, "auth", None)
    return isinstance(auth, ApiKeyCredential) and auth.has_scope(required_scope(request, view))


class StaffOrApiKey(permissions.BasePermission):
    """Staff users pass; an API key passes if it holds the scope the view asks for.

    The scope is ``view.api_key_scope`` when set ("read", "write", "ops"), else "read" for
    safe methods and "write" otherwise. No credentials: 401; anything else: 403.
    """

    message = "Staff or an API key with the required scope is needed."

    def has_permission(self, request, view) -> bool:
        if is_staff_user(getattr(request, "user", None)) or api_key_allows(request, view):
            return True
        if isinstance(getattr(request, "auth", None), ApiKeyCredential):
            # Instances are per request (DRF's get_permissions), so this doesn't leak.
            self.message = f"This API key lacks the '{required_scope(request, view)}' scope."
        return False
