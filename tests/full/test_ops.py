"""The operations surface over real processes: /metrics across Daphne and the worker, ops stats.

The live stack's Daphne and Celery worker share one PROMETHEUS_MULTIPROC_DIR (see conftest),
so a retry or failure counted in the worker process must show up in Daphne's /metrics.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from tests.factories import DEFAULT_TOKEN, StaffFactory, SupportSessionFactory
from tests.full.conftest import Ws, http, in_thread

pytestmark = pytest.mark.full


def staff_cookie() -> dict[str, str]:
    """A staff user's login session, stored in the shared database, as a Cookie header."""
    client = Client()
    client.force_login(StaffFactory())
    name = settings.SESSION_COOKIE_NAME
    return {"Cookie": f"{name}={client.cookies[name].value}"}


def scrape(base_url: str, headers: dict[str, str]) -> dict[tuple[str, tuple], float]:
    """Return every sample of Daphne's /metrics as {(name, sorted labels): value}."""
    response = http("GET", f"{base_url}/metrics", headers=headers)
    assert response.status == 200, response.body
    text = response.body if isinstance(response.body, str) else str(response.body)
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def poll(what: str, check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout} s")


def test_worker_task_retries_and_failures_show_in_daphnes_metrics(stack, transactional_db):
    from supportdesk.celery import app

    anonymous = http("GET", f"{stack.base_url}/metrics")
    assert anonymous.status == 401
    assert anonymous.body["error"]["code"] == "not_authenticated"
    headers_lower = {name.lower(): value for name, value in anonymous.headers.items()}
    assert anonymous.body["request_id"] == headers_lower["x-request-id"]

    headers = staff_cookie()
    retry_key = ("supportdesk_celery_task_retries_total", (("task", "agents.tasks.agent_reply"),))
    fail_key = (
        "supportdesk_celery_task_failures_total",
        (("task", "chat.tasks.connections_cleanup_stale"),),
    )
    before = scrape(stack.base_url, headers)

    # A reply to a message that does not exist fails and is retried (with backoff).
    retried = app.send_task("agents.tasks.agent_reply", args=[str(uuid.uuid4())])
    poll(
        "agent_reply retry counted in Daphne's /metrics",
        lambda: scrape(stack.base_url, headers).get(retry_key, 0) > before.get(retry_key, 0),
    )
    # A task called with arguments it does not take fails at once, without retries.
    app.send_task("chat.tasks.connections_cleanup_stale", args=["unexpected"])
    poll(
        "task failure counted in Daphne's /metrics",
        lambda: scrape(stack.base_url, headers).get(fail_key, 0) > before.get(fail_key, 0),
    )
    # The worker's own log line about the retry names the task it belongs to.
    retry_lines = [
        line for line in stack.worker.log_text().splitlines() if "Agent reply to" in line
    ]
    assert any(f"[task:{retried.id}]" in line for line in retry_lines), retry_lines[-5:]


@pytest.mark.django_db(transaction=True)
async def test_ops_stats_and_gauges_follow_a_real_socket(stack):
    session = await in_thread(SupportSessionFactory)
    headers = await in_thread(staff_cookie)

    def stats() -> dict:
        response = http("GET", f"{stack.base_url}/api/v1/ops/websockets/", headers=headers)
        assert response.status == 200, response.body
        return response.body

    ws = await Ws.open(stack.ws(session.id), origin=stack.base_url)
    try:
        await ws.auth(DEFAULT_TOKEN)
        one_customer = {
            "total_connections": 1,
            "customer_connections": 1,
            "agent_connections": 0,
            "active_sessions": 1,
        }
        await in_thread(poll, "socket in the ops stats", lambda: stats() == one_customer)
        samples = await in_thread(scrape, stack.base_url, headers)
        assert samples[("supportdesk_ws_connections", (("kind", "customer"),))] == 1
        assert samples[("supportdesk_active_sessions", ())] == 1
        assert samples[("supportdesk_sessions", (("status", "open"),))] == 1
    finally:
        await ws.close()
    await in_thread(
        poll, "socket gone from the ops stats", lambda: stats()["total_connections"] == 0
    )


def test_rate_limit_reset_clears_throttles_in_redis_and_nothing_else(transactional_db):
    """In-process against the real Redis cache, which shares its database with the broker."""
    raw = redis.Redis.from_url(settings.REDIS_URL)
    broker_like_key = f"ops-test-unacked-{uuid.uuid4().hex}"
    raw.set(broker_like_key, "task", ex=60)
    cache.set("ops-test-unrelated", "kept", 60)
    customer = APIClient()
    for _ in range(200):
        response = customer.post("/api/v1/sessions/", {}, format="json")
        if response.status_code == 429:
            break
        assert response.status_code == 201
    assert response.status_code == 429

    staff = APIClient()
    staff.force_login(StaffFactory())
    reset = staff.post("/api/v1/ops/rate-limits/reset/", {}, format="json")

    assert reset.status_code == 200, reset.content
    assert reset.json()["cleared"]["drf_throttles"] >= 1
    assert customer.post("/api/v1/sessions/", {}, format="json").status_code == 201
    assert cache.get("ops-test-unrelated") == "kept"
    assert raw.get(broker_like_key) == b"task"
    raw.delete(broker_like_key)


def test_metrics_still_answer_with_the_database_unreachable(tmp_path):
    """A Daphne whose database port is closed: counters served, the gauges' collector down."""
    from tests.servers import free_port, server_env, start_daphne

    env = server_env(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/nowhere",
        REDIS_URL=settings.REDIS_URL,
        METRICS_TOKEN="ops-test-token",
        CELERY_TASK_ALWAYS_EAGER="0",
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    daphne, base_url = start_daphne(tmp_path, env)
    try:
        samples = scrape(base_url, {"Authorization": "Bearer ops-test-token"})
        up_key = ("supportdesk_scrape_collector_up", (("collector", "ConnectionStatsCollector"),))
        assert samples[up_key] == 0
        assert not any(name == "supportdesk_ws_connections" for name, _ in samples)
        assert any(name.startswith("supportdesk_agent_reply_seconds") for name, _ in samples)
        refused = http("GET", f"{base_url}/metrics")
        assert refused.status == 401
        log = daphne.log_text()
        assert "WARNING supportdesk.metrics_view" in log and "ConnectionStatsCollector" in log
        assert " ERROR " not in log
    finally:
        daphne.stop()
