"""REST test helpers: one client per kind of caller, and the error-shape assertion."""

from __future__ import annotations

from rest_framework.test import APIClient

from apikeys.services import api_key_create
from supportdesk.metrics import RATE_LIMIT_HITS
from tests.factories import DEFAULT_TOKEN, StaffFactory, UserFactory


def api_client(kind: str = "staff", *, user=None) -> APIClient:
    """Return an APIClient authenticated as ``kind``: anonymous, customer, user, staff,
    key_read, key_write (read and write scopes) or key_ops."""
    client = APIClient()
    if kind == "customer":
        client.credentials(HTTP_AUTHORIZATION=f"Session {DEFAULT_TOKEN}")
    elif kind == "user":
        client.force_authenticate(user or UserFactory())
    elif kind == "staff":
        client.force_authenticate(user or StaffFactory())
    elif kind.startswith("key_"):
        scopes = {"key_read": ["read"], "key_write": ["read", "write"], "key_ops": ["ops"]}[kind]
        created = api_key_create(name=f"{kind} integration", scopes=scopes)
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {created.key}")
    elif kind != "anonymous":
        raise ValueError(kind)
    return client


def assert_error(response, status: int, code: str) -> dict:
    """Assert ``response`` is an error in the documented shape; return its body."""
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code, body
    assert body["error"]["detail"]
    assert body["request_id"] == response["X-Request-ID"]
    return body


def assert_throttled(response) -> None:
    """Assert ``response`` is a 429 in the error shape with a usable Retry-After."""
    assert response.status_code == 429, response.content
    body = response.json()
    assert body["error"]["code"] == "throttled"
    assert body["request_id"]
    assert int(response["Retry-After"]) >= 1


def hits(scope: str) -> float:
    """Return the rate-limit hits counted so far for ``scope`` (this process's metric)."""
    return RATE_LIMIT_HITS.labels(scope)._value.get()
