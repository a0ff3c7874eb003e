"""HTTP middleware: a request id for every request (X-Request-ID, logs); 503 on a DB outage."""

from __future__ import annotations

import re
import uuid

from .api import database_unavailable_response, is_database_unavailable
from .logging import context_id

# A client-supplied id is kept only if it is short and harmless, so it can't forge log lines.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Give each request an id (the client's X-Request-ID if sane) and return it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        supplied = request.headers.get("X-Request-ID", "")
        request_id = supplied if _SAFE_REQUEST_ID.match(supplied) else uuid.uuid4().hex
        request.request_id = request_id
        token = context_id.set(f"req:{request_id}")
        try:
            response = self.get_response(request)
        finally:
            context_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class DatabaseUnavailableMiddleware:
    """Answer 503 with Retry-After when a view fails because the database is unreachable.

    Covers the database being down or every pooled connection being busy past
    DB_POOL_TIMEOUT (psycopg_pool.PoolTimeout surfaces as django.db.OperationalError). DRF
    views get the same answer from supportdesk.api.exception_handler, and an outage inside
    another middleware from handler500 (supportdesk.api.json_500).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_database_unavailable(exception):
            return database_unavailable_response(request, exception)
        return None
