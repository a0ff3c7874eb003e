"""GET /metrics: Prometheus text for operators and scrapers, never for the public.

Allowed for an active staff session (a plain Django view: DRF's API-key authentication does
not run here), a scraper presenting ``Authorization: Bearer <METRICS_TOKEN>``, or a peer
address in ``METRICS_ALLOWED_IPS``; anything else gets 401/403 in the API's error shape.
With ``PROMETHEUS_MULTIPROC_DIR`` set, the counters of every Daphne and Celery process of
the machine are added up from that directory; otherwise this process's own registry is
served.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from collections.abc import Iterable
from functools import lru_cache

from django.http import HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from .api import error_body
from .clientip import client_ip
from .conf import app_setting
from .ops import has_ops_access

logger = logging.getLogger(__name__)


def multiprocess_dir() -> str | None:
    """Return the shared metrics directory when multiprocess mode is on, else None."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def ip_allowed(address: str | None, entries: Iterable[str]) -> bool:
    """Return whether ``address`` is one of ``entries`` (addresses or CIDR networks)."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(entries)))


class _ProcessRegistry:
    """This process's default registry, forwarded (single-process mode)."""

    def collect(self):
        return REGISTRY.collect()


class _ScrapeCollectors:
    """Run the scrape-time collectors; one failing (database down) does not fail the scrape."""

    def __init__(self, collectors: Iterable):
        self.collectors = list(collectors)

    def collect(self):
        up = GaugeMetricFamily(
            "supportdesk_scrape_collector_up",
            "1 if a scrape-time collector (database gauges) answered on this scrape, else 0.",
            labels=["collector"],
        )
        for collector in self.collectors:
            name = type(collector).__name__
            try:
                families = list(collector.collect())
            except Exception as error:
                logger.warning("Metrics collector %s failed: %s", name, error)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from families
        yield up


def metrics_registry(collectors: Iterable = ()) -> CollectorRegistry:
    """Return a registry for one scrape: every process's metrics plus ``collectors``."""
    registry = CollectorRegistry(auto_describe=False)
    directory = multiprocess_dir()
    if directory:
        MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_ProcessRegistry())
    registry.register(_ScrapeCollectors(collectors))
    return registry


def _bearer_token(request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip()


def _refusal(request, status: int, code: str, detail: str) -> JsonResponse:
    response = JsonResponse(error_body(request, code, detail), status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


@method_decorator(never_cache, name="dispatch")
class MetricsView(View):
    """Serve every metric in Prometheus text format to operators and scrapers only."""

    http_method_names = ["get", "head"]
    collectors: Iterable = ()

    def get(self, request):
        """Return the metrics, or 401/403 in the error shape."""
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        body = generate_latest(metrics_registry(self.collectors))
        return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)

    def _refusal(self, request) -> JsonResponse | None:
        expected = app_setting("METRICS_TOKEN")
        presented = _bearer_token(request)
        if presented is not None:
            if expected and hmac.compare_digest(presented.encode(), str(expected).encode()):
                return None
            logger.info("Refused a /metrics scrape with a wrong bearer token")
            return _refusal(request, 401, "authentication_failed", "Invalid metrics token.")
        if ip_allowed(client_ip(request), app_setting("METRICS_ALLOWED_IPS")):
            return None
        user = getattr(request, "user", None)
        if has_ops_access(user, None):
            return None
        if user is not None and user.is_authenticated:
            return _refusal(request, 403, "permission_denied", "Metrics are for staff only.")
        return _refusal(
            request,
            401,
            "not_authenticated",
            "Metrics need a staff session or a bearer token (METRICS_TOKEN).",
        )
