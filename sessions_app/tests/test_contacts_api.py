"""REST: widget session creation (site key, origin, identity) and /api/v1/contacts/."""

from __future__ import annotations

import logging

import pytest
from rest_framework.test import APIClient

from apikeys.services import api_key_create
from sessions_app.identity import identity_hash
from sessions_app.models import Contact, SupportSession, Website
from tests.factories import DEFAULT_TOKEN, StaffFactory, SupportSessionFactory, UserFactory

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/sessions/"
CONTACTS = "/api/v1/contacts/"
SHOP = "https://shop.example.com"


@pytest.fixture
def website():
    return Website.objects.create(name="Shop", allowed_origins=SHOP)


def key_client(*scopes: str) -> APIClient:
    client = APIClient()
    key = api_key_create(name="CRM", scopes=list(scopes)).key
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


@pytest.fixture
def staff_client():
    client = APIClient()
    client.force_authenticate(StaffFactory())
    return client


# --- session creation through the widget -------------------------------------------------


def test_widget_session_with_verified_identity(website):
    signed = identity_hash(secret=website.identity_secret, user_id="u-1")
    response = APIClient().post(
        SESSIONS,
        {
            "site_key": website.site_key,
            "page_origin": SHOP,
            "page_url": f"{SHOP}/help",
            "user_id": "u-1",
            "user_hash": signed,
            "customer_name": "Ada",
        },
        format="json",
        HTTP_USER_AGENT="TestBrowser/1.0",
    )
    assert response.status_code == 201, response.json()
    session = SupportSession.objects.select_related("contact").get(pk=response.json()["id"])
    assert (session.contact.external_id, session.contact.name) == ("u-1", "Ada")
    assert session.metadata["user_agent"] == "TestBrowser/1.0"
    assert session.metadata["page_url"] == f"{SHOP}/help"


@pytest.mark.parametrize(
    ("extra", "status", "code"),
    [
        ({"user_id": "u-1", "user_hash": "0" * 64}, 403, "identity_invalid"),
        ({"user_id": "u-1"}, 400, "identity_hash_missing"),
        ({"page_origin": "https://evil.test"}, 403, "origin_not_allowed"),
        ({"site_key": "site_unknown"}, 400, "unknown_site"),
    ],
)
def test_widget_session_refusals_in_the_error_shape(website, extra, status, code, caplog):
    body = {"site_key": website.site_key, "page_origin": SHOP, **extra}
    with caplog.at_level(logging.INFO):
        response = APIClient().post(SESSIONS, body, format="json")
    assert response.status_code == status
    payload = response.json()
    assert payload["error"]["code"] == code and payload["error"]["detail"]
    assert payload["request_id"]
    assert SupportSession.objects.count() == 0 and Contact.objects.count() == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_the_request_origin_wins_over_the_body(website):
    # A page calling the API itself: its browser-set Origin is what counts, not the body.
    response = APIClient().post(
        SESSIONS,
        {"site_key": website.site_key, "page_origin": SHOP},
        format="json",
        HTTP_ORIGIN="https://evil.test",
    )
    assert response.status_code == 403
    ok = APIClient().post(SESSIONS, {"site_key": website.site_key}, format="json", HTTP_ORIGIN=SHOP)
    assert ok.status_code == 201


def test_identity_without_a_site_is_refused():
    response = APIClient().post(SESSIONS, {"user_id": "u-1", "user_hash": "x"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_field"


def test_plain_sessions_still_open_without_a_site():
    response = APIClient().post(SESSIONS, {"customer_name": "Casey"}, format="json")
    assert response.status_code == 201


# --- contacts ------------------------------------------------------------------------------


def test_contacts_crud_with_a_write_key(website):
    client = key_client("read", "write")
    created = client.post(
        CONTACTS,
        {
            "website": website.site_key,
            "external_id": "crm-9",
            "name": "Grace",
            "email": "grace@example.com",
            "attributes": {"plan": "pro", "orders": 3},
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    contact = created.json()
    assert contact["website"] == website.site_key and contact["attributes"]["orders"] == 3

    duplicate = client.post(
        CONTACTS, {"website": website.site_key, "external_id": "crm-9"}, format="json"
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "contact_exists"

    url = f"{CONTACTS}{contact['id']}/"
    assert client.get(url).json()["name"] == "Grace"
    patched = client.patch(url, {"name": "Grace H."}, format="json").json()
    assert (patched["name"], patched["external_id"]) == ("Grace H.", "crm-9")
    listed = client.get(CONTACTS, {"search": "grace"}).json()
    assert [c["id"] for c in listed["results"]] == [contact["id"]]
    assert client.get(CONTACTS, {"website": "site_other"}).json()["count"] == 0
    assert client.delete(url).status_code == 204
    missing = client.get(url)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "contact_not_found"


def test_contact_sessions_most_recent_first(staff_client, website):
    contact = Contact.objects.create(website=website, external_id="u-1", name="Ada")
    first = SupportSessionFactory(contact=contact)
    second = SupportSessionFactory(contact=contact)
    SupportSessionFactory()  # someone else's
    body = staff_client.get(f"{CONTACTS}{contact.pk}/sessions/").json()
    assert [s["id"] for s in body["results"]] == [str(second.pk), str(first.pk)]
    assert body["results"][0]["display_name"] == "Ada"
    assert body["results"][0]["contact"]["external_id"] == "u-1"


@pytest.mark.parametrize("bad", ["not-a-uuid", "undefined", "00000000-0000-0000-0000-000000000000"])
def test_unknown_or_malformed_contact_id_is_404(staff_client, bad):
    assert staff_client.get(f"{CONTACTS}{bad}/").status_code == 404
    assert staff_client.get(f"{CONTACTS}{bad}/sessions/").status_code == 404


def test_bad_contact_input_is_400(staff_client):
    for body in ({"email": "nope"}, {"website": "site_unknown"}, {"attributes": [1, 2]}):
        response = staff_client.post(CONTACTS, body, format="json")
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "invalid_field"


def test_contacts_permissions():
    contact = Contact.objects.create(name="Ada")
    detail = f"{CONTACTS}{contact.pk}/"
    anonymous = APIClient()
    assert anonymous.get(CONTACTS).status_code == 401
    customer = APIClient()
    SupportSessionFactory()
    customer.credentials(HTTP_AUTHORIZATION=f"Session {DEFAULT_TOKEN}")
    assert customer.get(CONTACTS).status_code in (401, 403)
    user = APIClient()
    user.force_authenticate(UserFactory())
    assert user.get(CONTACTS).status_code == 403
    reader = key_client("read")
    assert reader.get(detail).status_code == 200
    assert reader.post(CONTACTS, {"name": "x"}, format="json").status_code == 403
    assert reader.delete(detail).status_code == 403
    ops = key_client("ops")
    assert ops.get(CONTACTS).status_code == 403
    assert Contact.objects.count() == 1


@pytest.mark.parametrize(
    "attributes",
    [
        '{"plan\\u0000": "pro"}',  # NUL in a key: jsonb refuses it (was a 500)
        '{"plan": "pro\\u0000"}',
        '{"plan": ["\\ud800"]}',  # a lone surrogate: psycopg refuses it
        '{"a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}}',  # nested too deep
    ],
)
def test_contact_attributes_that_cannot_be_stored_are_400(staff_client, attributes):
    body = '{"name": "Grace", "attributes": ' + attributes + "}"
    response = staff_client.post(CONTACTS, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid_field"
    assert not Contact.objects.exists()
