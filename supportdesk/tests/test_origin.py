"""The WebSocket Origin check: scheme, host AND port must match, or an exact trusted origin."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from supportdesk.asgi import application
from supportdesk.origin import origin_allowed
from tests.factories import SupportSessionFactory


@database_sync_to_async
def make_session():
    return SupportSessionFactory()


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
        ("http://127.0.0.1:9999", "127.0.0.1:8000", False),  # another port of the same host
        ("http://127.0.0.1", "127.0.0.1:8000", False),
        ("http://localhost:9999", "localhost:9999", True),  # same origin on any served port
        ("http://localhost:9999", "localhost:8000", False),
        ("https://localhost", "localhost", True),
        ("http://localhost:443", "localhost", False),
        ("http://evil.example:8000", "evil.example:8000", False),  # Host not in ALLOWED_HOSTS
        ("http://127.0.0.1:8000", None, True),  # an exact CSRF_TRUSTED_ORIGINS entry
        ("http://127.0.0.1:8001", None, False),
        ("http://127.0.0.1:8000:1", "127.0.0.1:8000", False),
    ],
)
@pytest.mark.django_db(transaction=True)
async def test_origin_must_match_scheme_host_and_port(origin, host, allowed):
    session = await make_session()
    headers = [(b"origin", origin.encode())]
    if host is not None:
        headers.append((b"host", host.encode()))
    communicator = WebsocketCommunicator(application, f"/ws/sessions/{session.pk}/", headers)
    connected, _ = await communicator.connect(timeout=3)
    assert connected is allowed
    await communicator.disconnect()


def test_origin_scheme_is_compared_when_the_server_knows_it(settings):
    assert origin_allowed("https://localhost", "localhost", "wss")
    assert not origin_allowed("http://localhost", "localhost", "wss")
    assert not origin_allowed("https://localhost:80", "localhost:80", "ws")
    settings.CSRF_TRUSTED_ORIGINS = ["https://desk.example.com"]
    assert origin_allowed("https://desk.example.com:443", "127.0.0.1:8000")
    assert not origin_allowed("http://desk.example.com", "127.0.0.1:8000")
    assert not origin_allowed("https://desk.example.com:8443", "127.0.0.1:8000")
