"""GET /metrics: who may scrape, what it contains, and the Celery signals that feed it."""

from __future__ import annotations

import logging

import pytest
from celery import shared_task
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from supportdesk.logging import ContextFilter, context_id
from supportdesk.metrics_view import _ScrapeCollectors, ip_allowed
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

COUNTERS_AND_HISTOGRAMS = {
    "supportdesk_messages": "counter",
    "supportdesk_agent_reply_seconds": "histogram",
    "supportdesk_handovers": "counter",
    "supportdesk_celery_task_failures": "counter",
    "supportdesk_celery_task_retries": "counter",
    "supportdesk_ws_errors": "counter",
    "supportdesk_ws_closes": "counter",
    "supportdesk_rate_limit_hits": "counter",
    "supportdesk_unanswered_swept": "counter",
}


def families(response) -> dict:
    return {f.name: f for f in text_string_to_metric_families(response.content.decode())}


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code and body["error"]["detail"]
    assert body["request_id"] == response["X-Request-ID"]


def test_anonymous_scrape_is_refused_in_the_error_shape():
    response = APIClient().get("/metrics")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"supportdesk_" not in response.content


def test_a_logged_in_customer_or_non_staff_user_is_refused():
    client = APIClient()
    client.force_login(UserFactory())
    assert_error(client.get("/metrics"), 403, "permission_denied")


def test_staff_session_gets_every_metric_in_prometheus_text():
    client = APIClient()
    client.force_login(StaffFactory())
    response = client.get("/metrics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    found = families(response)
    for name, kind in COUNTERS_AND_HISTOGRAMS.items():
        assert found[name].type == kind, name


def test_bearer_token_admits_a_scraper_and_a_wrong_one_is_refused(settings):
    settings.METRICS_TOKEN = "scrape-secret"
    client = APIClient()
    assert_error(
        client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong"), 401, "authentication_failed"
    )
    assert_error(
        client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret-and-more"),
        401,
        "authentication_failed",
    )
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret")
    assert response.status_code == 200
    assert "supportdesk_messages" in families(response)


def test_without_a_configured_token_no_bearer_token_is_accepted(settings):
    settings.METRICS_TOKEN = ""
    response = APIClient().get("/metrics", HTTP_AUTHORIZATION="Bearer ")
    assert_error(response, 401, "authentication_failed")


def test_allowed_peer_address_may_scrape_but_a_forwarded_header_is_not_trusted(settings):
    settings.METRICS_ALLOWED_IPS = ["10.1.0.0/16", "192.0.2.7"]
    client = APIClient()
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 200
    spoofed = client.get("/metrics", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="10.1.2.3")
    assert_error(spoofed, 401, "not_authenticated")


def test_ip_allowed_parses_addresses_and_networks():
    assert ip_allowed("::1", ["::1"])
    assert not ip_allowed("not-an-ip", ["0.0.0.0/0"])
    assert not ip_allowed("", ["0.0.0.0/0"])
    assert not ip_allowed("127.0.0.1", [])


class BrokenCollector:
    def collect(self):
        raise RuntimeError("database unreachable")


class OneGauge:
    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        yield GaugeMetricFamily("probe_gauge", "A gauge.", value=3)


def test_a_failing_scrape_collector_is_reported_without_failing_the_scrape(caplog):
    collected = list(_ScrapeCollectors([BrokenCollector(), OneGauge()]).collect())
    names = [family.name for family in collected]
    assert names == ["probe_gauge", "supportdesk_scrape_collector_up"]
    up = {s.labels["collector"]: s.value for s in collected[-1].samples}
    assert up == {"BrokenCollector": 0, "OneGauge": 1}
    assert [r.levelname for r in caplog.records] == ["WARNING"]


# --- Celery signals: task failures, retries and the task id on log lines -----------------------

probe_log = logging.getLogger("supportdesk.tests.probe")


@shared_task(bind=True, max_retries=1, name="supportdesk.tests.flaky_probe")
def flaky_probe(self):
    """Log, ask for one retry, then fail for good."""
    probe_log.warning("attempt %s", self.request.retries)
    if self.request.retries < 1:
        raise self.retry(exc=RuntimeError("transient"), countdown=0)
    raise RuntimeError("gave up")


def sample(name: str, task: str) -> float:
    return REGISTRY.get_sample_value(name, {"task": task}) or 0.0


def test_task_retries_and_failures_are_counted_and_task_lines_carry_the_task_id():
    task = flaky_probe.name
    retries = sample("supportdesk_celery_task_retries_total", task)
    failures = sample("supportdesk_celery_task_failures_total", task)
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Collect()
    handler.addFilter(ContextFilter())
    probe_log.addHandler(handler)
    token = context_id.set("req:outer-request")
    try:
        result = flaky_probe.apply()
        after = context_id.get()
    finally:
        context_id.reset(token)
        probe_log.removeHandler(handler)

    assert result.failed()
    assert sample("supportdesk_celery_task_retries_total", task) == retries + 1
    assert sample("supportdesk_celery_task_failures_total", task) == failures + 1
    assert [r.context_id for r in records] == [f"task:{result.id}"] * 2
    assert after == "req:outer-request"  # the request's own lines keep its id afterwards
