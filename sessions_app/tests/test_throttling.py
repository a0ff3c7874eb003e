"""Throttles per customer token and per client IP: 429 + Retry-After in the error shape."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from sessions_app.selectors import token_hash
from tests.factories import DEFAULT_TOKEN, SupportSessionFactory
from tests.rest import assert_throttled, hits

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/sessions/"


def test_customer_token_is_limited_per_token(throttle_rates):
    throttle_rates(customer_token="3/min", anon_ip="1000/min")
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
    other = SupportSessionFactory(token_hash=token_hash("other-token"))
    response = client.get(f"{SESSIONS}{other.pk}/", HTTP_AUTHORIZATION="Session other-token")
    assert response.status_code == 200


def test_anonymous_requests_are_limited_per_ip(throttle_rates):
    throttle_rates(anon_ip="2/min")
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


def test_inventing_a_token_per_request_hits_the_ip_limit(throttle_rates):
    throttle_rates(anon_ip="3/min", customer_token="1000/min")
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
