"""Throttles per API key, per customer token and per client IP: 429 + Retry-After, counted."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apikeys.services import api_key_create
from supportdesk.metrics import RATE_LIMIT_HITS
from tests.factories import DEFAULT_TOKEN, StaffFactory, SupportSessionFactory

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/sessions/"


@pytest.fixture
def rates(settings):
    """Tiny budgets so a handful of requests reaches them."""

    def apply(**rates):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                **rates,
            },
        }

    return apply


def hits(scope: str) -> float:
    return RATE_LIMIT_HITS.labels(scope)._value.get()


def assert_throttled(response):
    assert response.status_code == 429, response.content
    body = response.json()
    assert body["error"]["code"] == "throttled"
    assert body["request_id"]
    assert int(response["Retry-After"]) >= 1


def test_api_key_is_limited_per_key_across_addresses(rates):
    rates(api_key="3/min", anon_ip="1000/min")
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


def test_customer_token_is_limited_per_token(rates):
    rates(customer_token="3/min", anon_ip="1000/min")
    session = SupportSessionFactory()
    client = APIClient()
    url = f"{SESSIONS}{session.pk}/"
    before = hits("customer_token")
    statuses = [
        client.get(
            url, HTTP_AUTHORIZATION=f"Session {DEFAULT_TOKEN}", REMOTE_ADDR=f"203.0.113.{n}"
        ).status_code
        for n in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    assert hits("customer_token") == before + 1
    # Another customer (another token) on the same address is not affected.
    other = SupportSessionFactory(token_hash=_hash("other-token"))
    response = client.get(f"{SESSIONS}{other.pk}/", HTTP_AUTHORIZATION="Session other-token")
    assert response.status_code == 200


def _hash(token: str) -> str:
    from sessions_app.selectors import token_hash

    return token_hash(token)


def test_anonymous_requests_are_limited_per_ip(rates):
    rates(anon_ip="2/min")
    client = APIClient()
    before = hits("anon_ip")
    session = SupportSessionFactory()
    url = f"{SESSIONS}{session.pk}/"
    # Unauthenticated reads are refused (401) but still spend the address's budget…
    statuses = [client.get(url, REMOTE_ADDR="203.0.113.7").status_code for _ in range(2)]
    assert statuses == [401, 401]
    assert_throttled(client.get(url, REMOTE_ADDR="203.0.113.7"))
    assert hits("anon_ip") == before + 1
    # … and another address has its own.
    assert client.get(url, REMOTE_ADDR="203.0.113.8").status_code == 401


def test_inventing_a_token_per_request_hits_the_ip_limit(rates):
    rates(anon_ip="3/min", customer_token="1000/min")
    session = SupportSessionFactory()
    client = APIClient()
    statuses = [
        client.get(
            f"{SESSIONS}{session.pk}/",
            HTTP_AUTHORIZATION=f"Session guess-{n}",
            REMOTE_ADDR="203.0.113.9",
        ).status_code
        for n in range(4)
    ]
    assert statuses == [404, 404, 404, 429]


def test_staff_users_are_not_throttled(rates):
    rates(anon_ip="1/min", api_key="1/min", customer_token="1/min")
    client = APIClient()
    client.force_login(StaffFactory())
    assert [client.get(SESSIONS).status_code for _ in range(3)] == [200, 200, 200]
