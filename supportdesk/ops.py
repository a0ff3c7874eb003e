"""Operations API plumbing: who may operate, the rate-limit reset registry and its endpoint.

The apps' own ops endpoints (e.g. chat's connection stats) live in those apps and use
``OpsAccess``; ``supportdesk`` imports none of them. Any limiter that keeps counters (DRF
throttles here; a login lockout elsewhere) registers a resetter with
``rate_limit_resetter_register`` so that ``POST /api/v1/ops/rate-limits/reset/`` clears it too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from .api import ApiError

logger = logging.getLogger(__name__)

OPS_SCOPE = "ops"


def has_ops_access(user, auth) -> bool:
    """Return whether a caller may use the operations surface (ops endpoints, /metrics).

    Active staff users may; so may any credential whose auth object carries ``scopes``
    including ``"ops"`` — the hook an ops-scoped API key plugs into, with no change here.
    """
    if user is not None and user.is_authenticated and user.is_active and user.is_staff:
        return True
    return OPS_SCOPE in (getattr(auth, "scopes", None) or ())


class OpsAccess(permissions.BasePermission):
    """DRF permission for the ops endpoints: staff, or an ``ops``-scoped credential."""

    api_key_scope = OPS_SCOPE  # read by the OpenAPI schema (supportdesk.openapi)

    def has_permission(self, request, view) -> bool:
        return has_ops_access(getattr(request, "user", None), getattr(request, "auth", None))


# --- Rate-limit reset registry ----------------------------------------------------------------

Resetter = Callable[[], int]
_RESETTERS: dict[str, Resetter] = {}


class RateLimitResetFailed(Exception):
    """A limiter's store could not be reached or enumerated; its counters were not cleared."""


def rate_limit_resetter_register(name: str, resetter: Resetter) -> None:
    """Register ``resetter`` (clears one limiter's counters, returns how many) under ``name``."""
    _RESETTERS[name] = resetter


def rate_limit_resetters() -> list[str]:
    """Return the names of the registered limiters, sorted."""
    return sorted(_RESETTERS)


def rate_limits_reset(*, names: Iterable[str] | None = None) -> dict[str, int]:
    """Clear the counters of the named limiters (all when ``names`` is None); return counts.

    Raises ``KeyError`` for an unknown name (before clearing anything) and
    ``RateLimitResetFailed`` when a limiter's store is unreachable.
    """
    selected = rate_limit_resetters() if names is None else list(dict.fromkeys(names))
    unknown = [name for name in selected if name not in _RESETTERS]
    if unknown:
        raise KeyError(", ".join(unknown))
    return {name: int(_RESETTERS[name]()) for name in selected}


def cache_delete_prefix(cache, prefix: str) -> int:
    """Delete every key of a Django cache that starts with ``prefix``; return how many.

    Django's cache API cannot list keys, so this supports the two backends the project
    uses: django-redis (``delete_pattern``, a SCAN) and the local-memory cache.
    """
    if hasattr(cache, "delete_pattern"):
        deleted = cache.delete_pattern(f"{prefix}*")
        if deleted is None:  # django-redis swallowed a connection error (IGNORE_EXCEPTIONS)
            raise RateLimitResetFailed("the cache is unreachable")
        return int(deleted)
    if hasattr(cache, "_cache") and hasattr(cache, "_lock"):  # LocMemCache's own storage
        made_prefix = cache.make_key(prefix)
        with cache._lock:
            keys = [key for key in cache._cache if key.startswith(made_prefix)]
            for key in keys:
                cache._cache.pop(key, None)
                cache._expire_info.pop(key, None)
        return len(keys)
    raise RateLimitResetFailed(f"cannot enumerate keys of {type(cache).__name__}")


def _drf_throttles_reset() -> int:
    from rest_framework.throttling import SimpleRateThrottle

    # Every DRF throttle keys its history as "throttle_<scope>_<ident>" in the default cache.
    prefix = SimpleRateThrottle.cache_format.split("%", 1)[0]
    return cache_delete_prefix(SimpleRateThrottle.cache, prefix)


def _login_lockouts_reset() -> int:
    # django-axes keeps failed logins and lockouts in its own table (settings: AXES_*).
    from axes.utils import reset

    return int(reset() or 0)


rate_limit_resetter_register("drf_throttles", _drf_throttles_reset)
rate_limit_resetter_register("login_lockouts", _login_lockouts_reset)


class RateLimitResetInputSerializer(serializers.Serializer):
    limiters = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        allow_empty=False,
        help_text="Limiters to clear (default: all registered ones).",
    )


class RateLimitResetApi(APIView):
    """POST: clear rate-limit counters (every registered limiter, or those named)."""

    permission_classes = [OpsAccess]

    @extend_schema(
        tags=["ops"],
        request=RateLimitResetInputSerializer,
        responses={
            200: inline_serializer(
                "RateLimitReset",
                {
                    "cleared": serializers.DictField(
                        child=serializers.IntegerField(),
                        help_text="Counters cleared, by limiter.",
                    )
                },
            )
        },
    )
    def post(self, request):
        if not isinstance(request.data, dict):
            raise ApiError("invalid_field", "The body must be a JSON object (or empty).")
        payload = RateLimitResetInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        names = payload.validated_data.get("limiters")
        try:
            cleared = rate_limits_reset(names=names)
        except KeyError as error:
            raise ApiError(
                "invalid_field",
                f"limiters: unknown {error.args[0]}; known: {', '.join(rate_limit_resetters())}.",
            ) from None
        except RateLimitResetFailed as error:
            logger.warning("Rate-limit reset failed: %s", error)
            raise ApiError(
                "unavailable",
                f"Rate limits could not be reset: {error}.",
                status.HTTP_503_SERVICE_UNAVAILABLE,
            ) from None
        # An API key's request has an anonymous user: name the key (its credential's name).
        who = getattr(request.auth, "name", None) or request.user
        logger.info("Rate limits reset by %s: %s", who, cleared)
        return Response({"cleared": cleared})
