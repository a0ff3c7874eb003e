"""HTTP middleware: a request id for every request, echoed as X-Request-ID and in logs."""

from __future__ import annotations

import re
import uuid

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
