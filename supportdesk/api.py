"""REST API plumbing shared by every app: the single error shape and its exception handler."""

from __future__ import annotations

import logging
import re
import sys

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.db.models import Count, Window
from django.http import Http404, HttpResponse, JsonResponse
from rest_framework import exceptions, parsers, serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class Pagination(LimitOffsetPagination):
    """limit/offset pages of at most 100 rows (default 50): {count, next, previous, results}."""

    default_limit = 50
    max_limit = 100


class WindowCountPagination(Pagination):
    """The same pages, with the total counted by the page's own query (``COUNT(*) OVER ()``).

    DRF counts in a query of its own before fetching the page; on a hot list (a client
    polling ``…/messages/``) that second round trip and its SQL compilation were a tenth of
    the request's time in the view. Only a page past the end (no rows to carry the total)
    still asks for it.
    """

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        rows = list(
            queryset.annotate(page_total=Window(Count("pk")))[
                self.offset : self.offset + self.limit
            ]
        )
        if rows:
            self.count = rows[0].page_total
        else:
            self.count = self.get_count(queryset) if self.offset else 0
        return rows


class PageQuerySerializer(serializers.Serializer):
    """``limit`` and ``offset`` validated: a bad value is a 400, not a silent default page."""

    limit = serializers.IntegerField(min_value=1, max_value=Pagination.max_limit, required=False)
    offset = serializers.IntegerField(min_value=0, required=False)


def without_page(data: dict) -> dict:
    """Return validated query data without ``limit``/``offset`` (the paginator reads those)."""
    return {key: value for key, value in data.items() if key not in ("limit", "offset")}


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, but a body nested too deep for Python is bad JSON (400), not a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            # json's C decoder raises RecursionError on ~1,000+ levels: "[[[[…" is a client's
            # mistake (or an attack), not a server fault.
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None


def json_value_check(value, *, max_depth: int = 6) -> None:
    """Raise ValidationError unless ``value`` can be stored as JSON in PostgreSQL as it is.

    jsonb refuses a NUL character, psycopg a lone UTF-16 surrogate, and neither is text a
    person meant: both are refused in any key or string of a free-form JSON field, as DRF's
    CharField refuses them in plain fields.
    """

    def walk(item, depth: int) -> None:
        if depth > max_depth:
            raise serializers.ValidationError(f"nested deeper than {max_depth} levels.")
        if isinstance(item, str):
            if "\x00" in item:
                raise serializers.ValidationError("text must not contain NUL characters.")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise serializers.ValidationError(
                    "text must be valid Unicode (no lone surrogates)."
                ) from None
        elif isinstance(item, dict):
            for key, child in item.items():
                walk(key, depth + 1)
                walk(child, depth + 1)
        elif isinstance(item, list):
            for child in item:
                walk(child, depth + 1)

    walk(value, 0)


class ApiError(exceptions.APIException):
    """An API error with an explicit snake_case code and HTTP status."""

    def __init__(self, code: str, detail: str, status_code: int = status.HTTP_400_BAD_REQUEST):
        super().__init__(detail=detail, code=code)
        self.status_code = status_code
        self.error_code = code


class Conflict(ApiError):
    """409: the request conflicts with the current state (e.g. the session is closed)."""

    def __init__(self, code: str, detail: str):
        super().__init__(code, detail, status.HTTP_409_CONFLICT)


# DRF's own exception classes mapped to our snake_case codes.
_CODE_BY_EXCEPTION = (
    (exceptions.NotAuthenticated, "not_authenticated"),
    (exceptions.AuthenticationFailed, "authentication_failed"),
    (exceptions.PermissionDenied, "permission_denied"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.Throttled, "throttled"),
    (exceptions.ParseError, "invalid_json"),
    (exceptions.ValidationError, "invalid_field"),
)


def _flatten(detail) -> str:
    """Turn DRF's nested error detail into one readable line."""
    if isinstance(detail, dict):
        parts = []
        for field, value in detail.items():
            text = _flatten(value)
            parts.append(text if field == "non_field_errors" else f"{field}: {text}")
        return "; ".join(parts)
    if isinstance(detail, list):
        return " ".join(_flatten(item) for item in detail)
    return str(detail)


def error_body(request, code: str, detail: str) -> dict:
    """Return the one error shape every API error uses."""
    return {
        "error": {"code": code, "detail": detail},
        "request_id": getattr(request, "request_id", None),
    }


# Seconds a client is asked to wait after a 503 for an unreachable or saturated database.
DATABASE_RETRY_AFTER = 5


def is_database_unavailable(exc: BaseException | None) -> bool:
    """Tell whether ``exc`` means the database can't be reached now (not a bug in a query)."""
    # OperationalError: connection refused, server gone, pool timeout. InterfaceError: a
    # connection closed under us. Both are transient; ProgrammingError etc. are bugs (500).
    return isinstance(exc, OperationalError | InterfaceError)


def database_unavailable_response(request, exc: BaseException) -> HttpResponse:
    """Return 503 + Retry-After: the error shape under /api/, a short plain page elsewhere."""
    # WARNING: the operator sees it (and /health/ready says database: error), but one log line
    # per refused request, without a traceback, is enough.
    logger.warning("Database unavailable, answered 503: %s", type(exc).__name__)
    if _API_PATH.match(getattr(request, "path", "") or ""):
        response = JsonResponse(
            error_body(
                request, "service_unavailable", "The service is busy or degraded; retry shortly."
            ),
            status=503,
        )
    else:
        response = HttpResponse(
            "Service temporarily unavailable. Please try again in a few seconds.\n",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    response["Retry-After"] = str(DATABASE_RETRY_AFTER)
    # Logged above as a WARNING: keep django.request from logging each one again at ERROR.
    response._has_been_logged = True
    return response


def exception_handler(exc, context):
    """Render every API exception in the single error shape."""
    # Imported here: authentication classes import this module while DRF's views module is
    # still loading, and rest_framework.views imports those classes.
    from rest_framework.views import exception_handler as drf_exception_handler

    request = context.get("request")
    if is_database_unavailable(exc):
        return database_unavailable_response(request, exc)
    if isinstance(exc, RequestDataTooBig):
        exc = ApiError(
            "too_large", "Request body is too large.", status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled API error", exc_info=exc)
        return Response(
            error_body(request, "server_error", "An unexpected error occurred."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    code = getattr(exc, "error_code", None)
    if code is None:
        code = next((c for cls, c in _CODE_BY_EXCEPTION if isinstance(exc, cls)), "error")
    detail = _flatten(exc.detail) if hasattr(exc, "detail") else str(exc)
    response.data = error_body(request, code, detail)
    return response


_API_PATH = re.compile(r"^/api/")


def json_404(request, exception=None):
    """Answer unknown /api/ URLs in the error shape; other paths keep Django's page."""
    if _API_PATH.match(request.path):
        return JsonResponse(error_body(request, "not_found", "Not found."), status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def json_500(request):
    """Answer server errors under /api/ in the error shape; a database outage as 503."""
    # Called while the exception is being handled: a database outage raised outside a view
    # (e.g. in the session or auth middleware) still answers 503, not 500.
    exc = sys.exc_info()[1]
    if is_database_unavailable(exc):
        return database_unavailable_response(request, exc)
    if _API_PATH.match(request.path):
        return JsonResponse(
            error_body(request, "server_error", "An unexpected error occurred."), status=500
        )
    from django.views.defaults import server_error

    return server_error(request)
