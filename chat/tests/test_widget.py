"""The widget routes (loader, config, framed page: CSP and framing) and its socket origins."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from chat.tests.conftest import TIMEOUT, customer_socket
from sessions_app.models import Website
from supportdesk.asgi import application
from tests.factories import SupportSessionFactory

SHOP = "https://shop.example.com"


@pytest.fixture
def website(db):
    return Website.objects.create(
        name="Shop", allowed_origins=f"{SHOP}\nhttp://localhost:3000", greeting="Hello!"
    )


def csp(response) -> dict[str, str]:
    parts = (p.strip().split(" ", 1) for p in response["Content-Security-Policy"].split(";"))
    return {p[0]: (p[1] if len(p) > 1 else "") for p in parts if p[0]}


@pytest.mark.django_db
def test_loader_is_served_cacheable_javascript(client):
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "public, max-age=300"
    assert b"attachShadow" in response.content


def test_framed_page_may_be_framed_by_the_site_origins_only(client, website):
    response = client.get(f"/widget/{website.site_key}/")
    assert response.status_code == 200
    assert csp(response)["frame-ancestors"] == f"{SHOP} http://localhost:3000"
    assert "X-Frame-Options" not in response
    assert b'data-storage-key="supportdesk.session.' + website.site_key.encode() in response.content


def test_a_site_without_origins_cannot_be_framed_anywhere(client, db):
    website = Website.objects.create(name="Nowhere")
    response = client.get(f"/widget/{website.site_key}/")
    assert csp(response)["frame-ancestors"] == "'none'"


@pytest.mark.parametrize("path", ["/", "/console/login/", "/api/v1/sessions/", "/widget/nope/"])
def test_every_other_page_stays_unframable(client, db, path):
    response = client.get(path)
    assert csp(response)["frame-ancestors"] == "'none'"
    if path != "/widget/nope/":
        assert response["X-Frame-Options"] == "DENY"


def test_unknown_site_is_a_404(client, db):
    assert client.get("/widget/nope/").status_code == 404
    response = client.get("/widget/nope/config", HTTP_ORIGIN=SHOP)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_site"


def test_config_is_readable_by_a_listed_origin_only(client, website):
    response = client.get(f"/widget/{website.site_key}/config", HTTP_ORIGIN=SHOP)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SHOP
    body = response.json()
    assert body["greeting"] == "Hello!" and body["accent_color"] == "#2563eb"
    assert body["frame_url"].endswith(f"/widget/{website.site_key}/")

    for origin in ("https://evil.test", "null", ""):
        refused = client.get(f"/widget/{website.site_key}/config", HTTP_ORIGIN=origin)
        assert refused.status_code == 403, origin
        assert "Access-Control-Allow-Origin" not in refused
        assert refused.json()["error"]["code"] == "origin_not_allowed"


# --- sockets: a site's origins admit that site's sessions only ----------------------------


@database_sync_to_async
def widget_session(website):
    return SupportSessionFactory(website=website)


async def refused(path: str, origin: str) -> bool:
    communicator = WebsocketCommunicator(application, path, headers=[(b"origin", origin.encode())])
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    await communicator.disconnect()
    return not connected


@pytest.mark.django_db(transaction=True)
async def test_widget_session_socket_admits_its_sites_origin():
    website = await database_sync_to_async(Website.objects.create)(
        name="Shop", allowed_origins=SHOP
    )
    session = await widget_session(website)
    async with customer_socket(session.pk, origin=SHOP) as ws:
        assert (await ws.receive_json_from(timeout=TIMEOUT))["type"] == "ready"


@pytest.mark.django_db(transaction=True)
async def test_site_origins_admit_nothing_else():
    website = await database_sync_to_async(Website.objects.create)(
        name="Shop", allowed_origins=SHOP
    )
    other_site = await database_sync_to_async(Website.objects.create)(
        name="Other", allowed_origins="https://other.example.com"
    )
    ours = await widget_session(website)
    theirs = await widget_session(other_site)
    plain = await widget_session(None)
    assert await refused(f"/ws/sessions/{ours.pk}/", "https://evil.test")
    assert await refused(f"/ws/sessions/{theirs.pk}/", SHOP)  # another site's session
    assert await refused(f"/ws/sessions/{plain.pk}/", SHOP)  # a non-widget session
    assert await refused("/ws/sessions/not-a-uuid/", SHOP)
    assert await refused("/ws/agent/", SHOP)  # never the agent socket


def test_config_for_a_page_on_the_desks_own_origin(client, db):
    # A same-origin GET carries no Origin header; Sec-Fetch-Site says where it came from.
    website = Website.objects.create(name="Desk", allowed_origins="http://testserver")
    url = f"/widget/{website.site_key}/config"
    assert client.get(url, HTTP_SEC_FETCH_SITE="same-origin").status_code == 200
    assert client.get(url, HTTP_SEC_FETCH_SITE="cross-site").status_code == 403
    assert client.get(url).status_code == 403
