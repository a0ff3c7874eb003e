"""Login brute-force protection: the answer django-axes gives a locked-out login."""

from __future__ import annotations

import logging
import math

from django.conf import settings
from django.shortcuts import render

from supportdesk.clientip import client_ip
from supportdesk.metrics import RATE_LIMIT_HITS

logger = logging.getLogger(__name__)


def lockout_response(request, original_response=None, credentials=None):
    """Answer a locked-out login with 429, Retry-After and a page that says what happened."""
    RATE_LIMIT_HITS.labels("login").inc()
    cooloff = settings.AXES_COOLOFF_TIME
    retry_after = max(1, math.ceil(cooloff.total_seconds())) if cooloff else None
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    # WARNING, not ERROR: a guessing client is expected, but an operator may want to know.
    logger.warning("Login locked out for %r from %s", username[:150], client_ip(request))
    response = render(
        request,
        "lockout.html",
        {"cooloff_minutes": math.ceil(retry_after / 60) if retry_after else None},
        status=429,
    )
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response
