"""OpenAPI for integrators: the three auth schemes, the error responses, summaries and access.

``AutoSchema`` is ``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]``, so every endpoint — also those
added later by other apps — gets, without writing anything:

- a summary (the first line of its docstring unless ``extend_schema(summary=…)`` says one),
  and a description ending with who may call it and which API key scope it needs;
- the error responses that can happen to it, each with the one error shape
  (``ErrorResponse``): 400 when it takes input, 401 always (a malformed or revoked
  credential), 403 unless it is open to anyone, 404 when its path names an object, 409 for
  a change to a named object or a create whose view sets ``may_conflict``, 413 when it
  takes a body, 429 and 503 always (with ``Retry-After``). A code an endpoint documents
  itself is left as it is;
- the ``X-Request-ID`` response header, and a tag per resource (``/api/v1/<resource>/``).

The authentication extensions name the schemes by dotted path: supportdesk imports no app.
"""

from __future__ import annotations

import re

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiExample
from rest_framework import permissions, serializers

# --- The error shape --------------------------------------------------------------------------


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="snake_case, stable: what clients switch on.")
    detail = serializers.CharField(help_text="Human-readable explanation (may change).")


class ErrorResponseSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()
    request_id = serializers.CharField(
        allow_null=True, help_text="The X-Request-ID of the request: quote it to support."
    )


# status -> (when it happens, example code, example detail)
ERRORS: dict[str, tuple[str, str, str]] = {
    "400": (
        "Bad input: a field, a query parameter, the JSON or the session id is invalid.",
        "invalid_field",
        "limit: Ensure this value is less than or equal to 100.",
    ),
    "401": (
        "No credentials, or a malformed, unknown or revoked one.",
        "authentication_failed",
        "Invalid or revoked API key.",
    ),
    "403": (
        "Authenticated but not allowed (not staff, or the API key lacks the scope).",
        "permission_denied",
        "This API key lacks the 'write' scope.",
    ),
    "404": (
        "Unknown object (another session's token also gets a 404: no existence leak).",
        "session_not_found",
        "Session not found.",
    ),
    "409": (
        "The request conflicts with the object's state (e.g. the session is closed).",
        "session_closed",
        "This conversation is closed.",
    ),
    "413": ("Body or content too large.", "too_large", "Request body is too large."),
    "429": (
        "Throttled (per API key, customer token or client IP); retry after Retry-After seconds.",
        "throttled",
        "Request was throttled. Expected available in 12 seconds.",
    ),
    "503": (
        "Database or a dependency unavailable; retry after Retry-After seconds.",
        "service_unavailable",
        "The service is busy or degraded; retry shortly.",
    ),
}

_RETRY_AFTER = {
    "schema": {"type": "integer", "minimum": 0},
    "description": "Seconds to wait before retrying.",
}
_REQUEST_ID = {
    "schema": {"type": "string"},
    "description": "This request's id (also in the logs and in error bodies).",
}
_BODY_METHODS = {"POST", "PUT", "PATCH"}
_SUCCESS = {"200": "OK", "201": "Created", "202": "Accepted", "204": "No content"}


def _first_line(text: str) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    # "GET: list sessions (staff)." -> "List sessions (staff)" reads better as a title.
    line = re.sub(r"^(GET|POST|PUT|PATCH|DELETE)( and \w+)?:\s*", "", line).rstrip(".")
    return line[:1].upper() + line[1:]


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's AutoSchema plus error responses, summaries and access notes."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        # Here, not in get_description: extend_schema(description=…) replaces that method.
        description = operation.get("description", "")
        if not operation.get("summary"):
            operation["summary"] = _first_line(description) or operation["operationId"]
        operation["description"] = f"{description}\n\n{self._access_note()}".strip()
        return operation

    def get_tags(self):
        # Group by resource (/api/v1/<resource>/…): "sessions", "ops", and whatever
        # resources other apps add, instead of one "v1" group for everything.
        match = re.match(r"^/api/v\d+/([^/{]+)/", self.path)
        return [match.group(1)] if match else super().get_tags()

    def get_serializer_name(self, serializer, direction):
        # Nested "InputSerializer"s of several views would share one component name (and
        # overwrite each other): name them after their view, e.g. SessionAssignInput.
        cls = serializer.__class__
        outer, _, inner = cls.__qualname__.rpartition(".")
        if outer and "<" not in outer:
            return re.sub(r"Api$|View$", "", outer.split(".")[-1]) + inner
        return super().get_serializer_name(serializer, direction)

    def get_auth(self):
        # drf-spectacular adds an empty requirement ("no auth") for AllowAny views; ours
        # decide access inside the view (a customer token or a key is still needed), and
        # views that are truly open say so with extend_schema(auth=[]).
        return [requirement for requirement in super().get_auth() if requirement]

    def _permission_classes(self) -> list[type]:
        return [permission.__class__ for permission in self.view.get_permissions()]

    def _open_to_anyone(self) -> bool:
        perms = self._permission_classes()
        return bool(perms) and all(p is permissions.AllowAny for p in perms)

    def required_scope(self) -> str:
        """Return the API key scope this operation needs (as apikeys.permissions decides)."""
        for permission in self.view.get_permissions():
            scope = getattr(permission, "api_key_scope", None)
            if scope:
                return scope
        scope = getattr(self.view, "api_key_scope", None)
        if scope:
            return scope
        return "read" if self.method in permissions.SAFE_METHODS else "write"

    def _access_note(self) -> str:
        auth = self.get_auth()
        if not auth:
            return "**Access:** anyone (no credentials needed)."
        names = {name for requirement in auth for name in requirement}
        who = []
        if "customerToken" in names:
            who.append("the session's customer (`Authorization: Session <token>`)")
        if "staffSession" in names:
            who.append("signed-in staff")
        if "apiKey" in names:
            who.append(f"an API key with the `{self.required_scope()}` scope")
        return "**Access:** " + ", ".join(who) + "." if who else ""

    def _get_paginator(self):
        # Only GET lists are pages; a POST that answers with the rows it created (examples)
        # answers a plain array.
        return super()._get_paginator() if self.method == "GET" else None

    def _error_statuses(self) -> list[str]:
        has_path_params = "{" in self.path
        has_body = self.method in _BODY_METHODS
        has_query = bool(self._get_parameters())
        statuses = []
        if has_body or has_query or has_path_params:
            statuses.append("400")
        statuses.append("401")
        if not self._open_to_anyone() or has_path_params:
            statuses.append("403")
        if has_path_params:
            statuses.append("404")
        # A change to a named object, or a create that may clash with a stored one (a view
        # says so with ``may_conflict``: a taken slug, shortcut or external id).
        if self.method not in permissions.SAFE_METHODS and (
            has_path_params or getattr(self.view, "may_conflict", False)
        ):
            statuses.append("409")
        if has_body:
            statuses.append("413")
        statuses += ["429", "503"]
        return statuses

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status in self._error_statuses():
            if status in responses:
                continue
            text, code, detail = ERRORS[status]
            response = self._get_response_for_code(
                ErrorResponseSerializer,
                status,
                direction=direction,
            )
            response["description"] = text
            for media in response.get("content", {}).values():
                media["examples"] = {
                    code: {
                        "value": {
                            "error": {"code": code, "detail": detail},
                            "request_id": "3f2a9c0e5b7d4e1f8a6b2c4d9e0f1a2b",
                        }
                    }
                }
            if status in ("429", "503"):
                response.setdefault("headers", {})["Retry-After"] = _RETRY_AFTER
            responses[status] = response
        for status, response in responses.items():
            if not response.get("description"):
                response["description"] = _SUCCESS.get(status, "")
            response.setdefault("headers", {}).setdefault("X-Request-ID", _REQUEST_ID)
        return responses


def error_example(status: int, code: str, detail: str) -> OpenApiExample:
    """Return an OpenApiExample of the error shape for ``status`` (for extend_schema)."""
    return OpenApiExample(
        code,
        value={"error": {"code": code, "detail": detail}, "request_id": "3f2a9c0e5b7d4e1f"},
        response_only=True,
        status_codes=[str(status)],
    )


# --- The three authentication schemes --------------------------------------------------------


class CustomerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "sessions_app.authentication.SessionTokenAuthentication"
    name = "customerToken"

    def get_security_requirement(self, auto_schema):
        # Customers reach only the per-session endpoints, which let the view decide access
        # (AllowAny + session_for_request); staff-only endpoints don't list this scheme.
        perms = auto_schema._permission_classes()
        return {self.name: []} if permissions.AllowAny in perms else None

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "A customer's session token: `Authorization: Session <token>`. The token is "
                "returned once, by `POST /api/v1/sessions/`, and opens only that session."
            ),
        }


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apikeys.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "An integration's API key: `Authorization: Api-Key sd_<prefix>_<secret>`. "
                "Created in the admin (shown once); scopes `read` (GET), `write` (changes), "
                "`ops` (operations endpoints). Each operation's description names the scope."
            ),
        }


class StaffSessionScheme(OpenApiAuthenticationExtension):
    target_class = "rest_framework.authentication.SessionAuthentication"
    name = "staffSession"
    priority = 1  # over drf-spectacular's own "cookieAuth"

    def get_security_definition(self, auto_schema):
        from django.conf import settings

        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": (
                "A signed-in staff user's Django login cookie (admin or console login). "
                "Unsafe methods also need the `X-CSRFToken` header. For browsers, not scripts."
            ),
        }
