"""The throttle per API key: 429 + Retry-After in the error shape, counted; staff exempt."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apikeys.services import api_key_create
from tests.factories import StaffFactory
from tests.rest import assert_throttled, hits

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/sessions/"


def test_api_key_is_limited_per_key_across_addresses(throttle_rates):
    throttle_rates(api_key="3/min", anon_ip="1000/min")
    first = api_key_create(name="CRM", scopes=["read"]).key
    second = api_key_create(name="Shop", scopes=["read"]).key
    client = APIClient()
    before = hits("api_key")
    statuses = [
        client.get(
            SESSIONS, HTTP_AUTHORIZATION=f"Api-Key {first}", REMOTE_ADDR=f"203.0.113.{n}"
        ).status_code
        for n in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    assert_throttled(client.get(SESSIONS, HTTP_AUTHORIZATION=f"Api-Key {first}"))
    assert hits("api_key") == before + 2
    # Another key has its own budget.
    assert client.get(SESSIONS, HTTP_AUTHORIZATION=f"Api-Key {second}").status_code == 200


def test_staff_users_are_not_throttled(throttle_rates):
    throttle_rates(anon_ip="1/min", api_key="1/min", customer_token="1/min")
    client = APIClient()
    client.force_login(StaffFactory())
    assert [client.get(SESSIONS).status_code for _ in range(3)] == [200, 200, 200]


def test_throttle_fails_open_when_the_cache_is_down(throttle_rates, settings):
    """Redis gone: API-key requests still pass (the throttle can't count, it doesn't refuse)."""
    from supportdesk.conf import redis_cache
    from tests.servers import free_port

    throttle_rates(api_key="2/min")
    settings.CACHES = {"default": redis_cache(f"redis://127.0.0.1:{free_port()}/0")}
    key = api_key_create(name="CRM", scopes=["read"]).key
    client = APIClient()
    statuses = [
        client.get(SESSIONS, HTTP_AUTHORIZATION=f"Api-Key {key}").status_code for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 200]
