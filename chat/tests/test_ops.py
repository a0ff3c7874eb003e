"""Ops endpoints of chat: connection stats from the registry and the stale sweep on demand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from chat import selectors
from chat.models import Connection
from sessions_app.models import SessionStatus
from tests.factories import StaffFactory, SupportSessionFactory

pytestmark = pytest.mark.django_db


def connect(name: str, kind: str, *, session=None, user=None, age: float = 0) -> Connection:
    return Connection.objects.create(
        channel_name=name,
        kind=kind,
        session=session,
        user=user,
        last_seen_at=timezone.now() - timedelta(seconds=age),
    )


@pytest.fixture
def staff():
    client = APIClient()
    client.force_login(StaffFactory())
    return client


def test_stats_count_sockets_by_kind_and_sessions_with_a_customer(staff):
    first, second = SupportSessionFactory(), SupportSessionFactory()
    connect("c1", "customer", session=first)
    connect("c2", "customer", session=first)  # a second tab on the same conversation
    connect("c3", "customer", session=second)
    connect("a1", "agent", user=StaffFactory())

    response = staff.get("/api/v1/ops/websockets/")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "total_connections": 4,
        "customer_connections": 3,
        "agent_connections": 1,
        "active_sessions": 2,
    }


def test_stats_are_one_query(django_assert_num_queries):
    connect("c1", "customer", session=SupportSessionFactory())
    with django_assert_num_queries(1):
        assert selectors.connection_stats()["total_connections"] == 1


def test_cleanup_sweeps_stale_connections_and_returns_what_is_left(staff):
    session = SupportSessionFactory()
    connect("fresh", "customer", session=session)
    connect("stale-1", "customer", session=session, age=3600)
    connect("stale-2", "agent", user=StaffFactory(), age=3600)

    response = staff.post("/api/v1/ops/websockets/cleanup/")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "stale_connections_cleaned": 2,
        "current_stats": {
            "total_connections": 1,
            "customer_connections": 1,
            "agent_connections": 0,
            "active_sessions": 1,
        },
    }
    assert list(Connection.objects.values_list("channel_name", flat=True)) == ["fresh"]


def test_unclosed_session_counts_by_status(django_assert_num_queries):
    SupportSessionFactory.create_batch(2)
    SupportSessionFactory(status=SessionStatus.ESCALATED)
    SupportSessionFactory(status=SessionStatus.CLOSED)
    with django_assert_num_queries(1):
        assert selectors.sessions_unclosed_counts() == {"open": 2, "escalated": 1}


def test_connection_and_session_gauges_come_from_the_database(settings):
    settings.METRICS_TOKEN = "scrape-secret"
    session = SupportSessionFactory()
    SupportSessionFactory(status="escalated")
    connect("c1", "customer", session=session)
    connect("c2", "customer", session=session)
    connect("a1", "agent", user=StaffFactory())

    response = APIClient().get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret")

    assert response.status_code == 200, response.content
    found = {f.name: f for f in text_string_to_metric_families(response.content.decode())}
    by_kind = {s.labels["kind"]: s.value for s in found["supportdesk_ws_connections"].samples}
    assert by_kind == {"customer": 2, "agent": 1}
    assert found["supportdesk_active_sessions"].samples[0].value == 1
    by_status = {s.labels["status"]: s.value for s in found["supportdesk_sessions"].samples}
    assert by_status == {"open": 1, "escalated": 1}
    up = found["supportdesk_scrape_collector_up"].samples
    assert [(s.labels["collector"], s.value) for s in up] == [("ConnectionStatsCollector", 1)]
