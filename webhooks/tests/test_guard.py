"""The SSRF guard: refused at creation (API, admin form) and at send time, with no connection."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from sessions_app.services import session_open
from tests.factories import StaffFactory
from webhooks.guard import UnsafeTarget, address_problem, target_check
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.tests.receiver import Receiver

REFUSED_URLS = [
    "http://127.0.0.1/hook",
    "http://10.0.0.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/hook",
    "http://localhost/hook",  # a name resolving to loopback
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped IPv6
    "http://[::ffff:a00:1]/hook",  # 10.0.0.1, mapped
    "http://0.0.0.0/hook",
    "http://[::]/hook",
    "http://224.0.0.1/hook",
    "http://192.168.1.1/hook",
    "http://100.64.0.1/hook",
    "http://2130706433/hook",  # 127.0.0.1 written as one number
    "http://[fe80::1]/hook",
    "http://[2002:7f00:1::]/hook",  # 6to4 of 127.0.0.1
]


@pytest.fixture
def staff_client(db):
    client = APIClient()
    client.force_authenticate(StaffFactory())
    return client


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_private_targets_are_refused_at_creation(staff_client, url):
    response = staff_client.post(
        "/api/v1/webhooks/", {"url": url, "events": ["session.created"]}, format="json"
    )
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["error"]["code"] == "invalid_field"
    assert body["error"]["detail"].startswith("url: Refused target")
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://example.com/hook", "Only http and https"),
        ("file:///etc/passwd", "Only http and https"),
        ("http://user:pw@example.com/hook", "credentials"),
        ("http:///hook", "no host"),
        ("http://example.com:99999/hook", "port"),
    ],
)
def test_malformed_urls_are_refused(staff_client, url, why):
    response = staff_client.post(
        "/api/v1/webhooks/", {"url": url, "events": ["session.created"]}, format="json"
    )
    assert response.status_code == 400
    assert why in response.json()["error"]["detail"]


def test_every_address_of_a_name_must_be_public(monkeypatch):
    # One public and one private answer: refused, since either may be the one connected to.
    def fake_getaddrinfo(host, port, **kwargs):
        return [
            (2, 1, 6, "", ("93.184.216.34", port)),
            (2, 1, 6, "", ("10.1.2.3", port)),
        ]

    monkeypatch.setattr("socket.getaddrinfo", fake_getaddrinfo)
    with pytest.raises(UnsafeTarget, match="resolves to 10.1.2.3"):
        target_check("https://hooks.example.com/x")


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700::1111", "8.8.8.8"])
def test_public_addresses_pass(address):
    assert address_problem(ipaddress.ip_address(address)) is None


def test_the_setting_allows_private_targets(staff_client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    response = staff_client.post(
        "/api/v1/webhooks/",
        {"url": "http://127.0.0.1:9/hook", "events": ["session.created"]},
        format="json",
    )
    assert response.status_code == 201


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_send_time_guard_refuses_and_connects_nowhere(host, settings):
    """A row saved before the rules changed (or a name re-pointed) is refused when sending."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    with Receiver() as receiver:
        if host == "[::1]":
            # The receiver listens on IPv4 only; the point is that nothing is attempted.
            url = f"http://[::1]:{receiver.port}/hooks"
        else:
            url = f"http://{host}:{receiver.port}/hooks"
        # Created directly: the creation-time check is what we are bypassing here.
        endpoint = WebhookEndpoint.objects.create(
            url=url, events=["session.created"], secret="whsec_test"
        )
        with transaction.atomic():
            session_open()
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)
        assert delivery.status == DeliveryStatus.GAVE_UP
        attempt = delivery.attempt_log.get()
        assert attempt.status_code is None
        assert attempt.error.startswith("Refused target")
        assert receiver.requests == []


@pytest.mark.django_db(transaction=True)
def test_redirects_are_not_followed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    with Receiver() as inner, Receiver(default=302, location=inner.url) as outer:
        endpoint = WebhookEndpoint.objects.create(
            url=outer.url, events=["session.created"], secret="whsec_test"
        )
        session_open()
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)
        assert delivery.status == DeliveryStatus.FAILED  # a 3xx is a failure, retried later
        assert delivery.attempt_log.get().status_code == 302
        assert len(outer.requests) == 1
        assert inner.requests == []


@pytest.mark.django_db(transaction=True)
def test_a_pinned_connection_keeps_the_url_host(settings, monkeypatch):
    """The request goes to a checked address (the first that accepts) but names the URL's host."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    resolved = []
    real_getaddrinfo = socket.getaddrinfo

    def resolver(host, port, *args, **kwargs):
        resolved.append(host)
        if host != "hooks.example.test":  # the connection's own lookup of an IP literal
            return real_getaddrinfo(host, port, *args, **kwargs)
        # ::1 first, where nothing listens (the receiver is IPv4): the next address is used.
        return [(10, 1, 6, "", ("::1", port, 0, 0)), (2, 1, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr("socket.getaddrinfo", resolver)
    with Receiver() as receiver:
        WebhookEndpoint.objects.create(
            url=f"http://hooks.example.test:{receiver.port}/hooks?source=desk",
            events=["session.created"],
            secret="whsec_test",
        )
        session_open()
        (request,) = receiver.requests
    assert request.headers["Host"] == f"hooks.example.test:{receiver.port}"
    assert request.path == "/hooks?source=desk"
    # The name was resolved once, by the guard; the connections only used its addresses.
    assert resolved.count("hooks.example.test") == 1
    assert set(resolved) <= {"hooks.example.test", "::1", "127.0.0.1"}
