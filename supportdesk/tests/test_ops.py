"""Ops endpoints: who may call them, the rate-limit reset registry, the OpenAPI entries."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from supportdesk import ops
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

OPS_ENDPOINTS = [
    ("get", "/api/v1/ops/websockets/"),
    ("post", "/api/v1/ops/websockets/cleanup/"),
    ("post", "/api/v1/ops/rate-limits/reset/"),
]


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code and body["error"]["detail"]
    assert body["request_id"] == response["X-Request-ID"]


def staff_client() -> APIClient:
    client = APIClient()
    client.force_login(StaffFactory())
    return client


@pytest.fixture
def extra_resetter():
    """Register a limiter of another app (like a login lockout) for one test."""
    calls = []

    def reset() -> int:
        calls.append(1)
        return 7

    ops.rate_limit_resetter_register("test_lockouts", reset)
    yield calls
    ops._RESETTERS.pop("test_lockouts", None)


@pytest.mark.parametrize(("method", "path"), OPS_ENDPOINTS)
def test_ops_endpoints_refuse_anonymous_callers(method, path):
    assert_error(getattr(APIClient(), method)(path), 401, "not_authenticated")


@pytest.mark.parametrize(("method", "path"), OPS_ENDPOINTS)
def test_ops_endpoints_refuse_non_staff_users(method, path):
    client = APIClient()
    client.force_login(UserFactory())
    assert_error(getattr(client, method)(path), 403, "permission_denied")


@pytest.mark.parametrize(("method", "path"), OPS_ENDPOINTS)
def test_ops_endpoints_refuse_a_deactivated_staff_user(method, path):
    client = APIClient()
    user = StaffFactory()
    client.force_authenticate(user=user)
    user.is_active = False
    assert_error(getattr(client, method)(path), 403, "permission_denied")


@dataclass(frozen=True)
class ScopedCredential:
    """What an API key's auth object will look like: a set of scopes."""

    scopes: tuple[str, ...]


def test_an_ops_scoped_credential_is_enough_and_another_scope_is_not():
    client = APIClient()
    client.force_authenticate(user=None, token=ScopedCredential(scopes=("ops",)))
    assert client.get("/api/v1/ops/websockets/").status_code == 200
    client.force_authenticate(user=None, token=ScopedCredential(scopes=("sessions",)))
    assert client.get("/api/v1/ops/websockets/").status_code == 403


def test_reset_clears_the_session_creation_throttle():
    customer = APIClient()
    # SESSION_CREATE_RATE (30/min by default) per client address; find where it bites.
    for _ in range(200):
        response = customer.post("/api/v1/sessions/", {}, format="json")
        if response.status_code == 429:
            break
        assert response.status_code == 201
    assert_error(response, 429, "throttled")
    cache.set("unrelated-key", "kept", 60)

    reset = staff_client().post("/api/v1/ops/rate-limits/reset/", {}, format="json")

    assert reset.status_code == 200, reset.content
    assert reset.json()["cleared"]["drf_throttles"] >= 1
    assert customer.post("/api/v1/sessions/", {}, format="json").status_code == 201
    assert cache.get("unrelated-key") == "kept"


def test_reset_runs_every_registered_limiter(extra_resetter):
    response = staff_client().post("/api/v1/ops/rate-limits/reset/")
    assert response.status_code == 200, response.content
    assert response.json()["cleared"] == {
        "drf_throttles": 0,
        "login_lockouts": 0,
        "test_lockouts": 7,
    }
    assert extra_resetter == [1]


def test_reset_lifts_a_login_lockout():
    """django-axes' lockouts are rate-limit counters too: the ops reset clears them."""
    StaffFactory(username="locked", password="right-password")  # noqa: S106
    client = Client()
    for _ in range(6):
        client.post("/console/login/", {"username": "locked", "password": "wrong"})
    refused = client.post("/console/login/", {"username": "locked", "password": "right-password"})
    assert refused.status_code == 429

    response = staff_client().post(
        "/api/v1/ops/rate-limits/reset/", {"limiters": ["login_lockouts"]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["cleared"]["login_lockouts"] >= 1
    allowed = client.post("/console/login/", {"username": "locked", "password": "right-password"})
    assert allowed.status_code == 302


def test_reset_can_name_the_limiters_to_clear(extra_resetter):
    response = staff_client().post(
        "/api/v1/ops/rate-limits/reset/", {"limiters": ["test_lockouts"]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"cleared": {"test_lockouts": 7}}


def test_reset_refuses_an_unknown_limiter_and_clears_nothing(extra_resetter):
    response = staff_client().post(
        "/api/v1/ops/rate-limits/reset/",
        {"limiters": ["test_lockouts", "nope"]},
        format="json",
    )
    assert_error(response, 400, "invalid_field")
    assert "nope" in response.json()["error"]["detail"]
    assert extra_resetter == []


@pytest.mark.parametrize(
    "body", [{"limiters": []}, {"limiters": "drf_throttles"}, ["drf_throttles"], "all"]
)
def test_reset_refuses_a_malformed_body(body):
    response = staff_client().post("/api/v1/ops/rate-limits/reset/", body, format="json")
    assert_error(response, 400, "invalid_field")


def test_ops_endpoints_are_in_the_openapi_schema():
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    paths = schema.json()["paths"]
    assert "get" in paths["/api/v1/ops/websockets/"]
    assert "post" in paths["/api/v1/ops/websockets/cleanup/"]
    assert "post" in paths["/api/v1/ops/rate-limits/reset/"]


def test_reset_with_the_cache_unreachable_is_503_not_a_silent_success(settings):
    from supportdesk.conf import redis_cache
    from tests.servers import free_port

    # A real django-redis cache pointed at a port nothing listens on (IGNORE_EXCEPTIONS on).
    settings.CACHES = {"default": redis_cache(f"redis://127.0.0.1:{free_port()}/0")}
    response = staff_client().post("/api/v1/ops/rate-limits/reset/")
    assert_error(response, 503, "unavailable")
