"""Optional settings never raise; a cache outage degrades instead of taking the app down."""

from __future__ import annotations

import logging

import pytest
from rest_framework.test import APIClient

from supportdesk.conf import DEFAULTS, Rate, app_setting, parse_rate, redis_cache

OPTIONAL = sorted(DEFAULTS)


@pytest.mark.parametrize("name", OPTIONAL)
def test_missing_optional_setting_falls_back_to_its_default(settings, name):
    if hasattr(settings, name):
        delattr(settings, name)
    assert app_setting(name) == DEFAULTS[name]


@pytest.mark.django_db
def test_app_serves_with_every_optional_setting_removed(settings):
    for name in OPTIONAL:
        if hasattr(settings, name):
            delattr(settings, name)
    response = APIClient().post("/api/v1/sessions/", {}, format="json")
    assert response.status_code == 201
    assert APIClient().get("/").status_code == 200


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("20/10s", Rate(20, 10)),
        ("30/min", Rate(30, 60)),
        ("5/2m", Rate(5, 120)),
        ("1/h", Rate(1, 3600)),
    ],
)
def test_parse_rate(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["", "7", "abc", "0/10s", "10/0s", "-1/s", "5/10y"])
def test_parse_rate_rejects_nonsense(text):
    with pytest.raises(ValueError):
        parse_rate(text)


# The production cache configuration, pointed at a port where nothing listens.
DEAD_REDIS_CACHE = {"default": redis_cache("redis://127.0.0.1:1/0")}


@pytest.fixture
def dead_cache(settings):
    # Django's setting_changed handler rebuilds the cache connections for us.
    settings.CACHES = DEAD_REDIS_CACHE
    yield


@pytest.mark.django_db
def test_cache_outage_does_not_take_the_api_down(dead_cache, caplog):
    """The throttle's cache is down: sessions are still created (fail open), with a warning."""
    caplog.set_level(logging.WARNING)
    client = APIClient()
    responses = [client.post("/api/v1/sessions/", {}, format="json") for _ in range(3)]
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert any(
        "supportdesk.cache" in r.name or "redis" in r.getMessage().lower() for r in caplog.records
    )
    # A survived outage is a WARNING line, not an ERROR with a traceback (django-redis logs
    # its ignored exceptions with logger.exception).
    cache_records = [r for r in caplog.records if r.name == "supportdesk.cache"]
    assert cache_records
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in cache_records)


@pytest.mark.django_db
def test_cache_outage_is_reported_by_readiness_not_liveness(dead_cache):
    client = APIClient()
    assert client.get("/health/live").status_code == 200
    ready = client.get("/health/ready")
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["cache"]["status"] == "error"
    assert checks["database"]["status"] == "ok"
