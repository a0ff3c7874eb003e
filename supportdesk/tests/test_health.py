"""Health probes: liveness and readiness with each dependency check."""

import pytest
from rest_framework.test import APIClient


def test_live_is_ok_without_a_database():
    response = APIClient().get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_ready_reports_every_check(demo_kb):
    response = APIClient().get("/health/ready")
    assert response.status_code == 200, response.json()
    checks = response.json()["checks"]
    assert set(checks) == {
        "database",
        "migrations",
        "channel_layer",
        "cache",
        "celery",
        "knowledge_base",
    }
    assert all(check["status"] == "ok" for check in checks.values())


@pytest.mark.django_db
def test_ready_is_503_without_a_knowledge_base():
    response = APIClient().get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["knowledge_base"]["status"] == "error"
