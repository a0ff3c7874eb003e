"""REST: sessions and messages, auth by customer token, the single error shape."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from chat.models import Message
from chat.services import message_create
from tests.factories import DEFAULT_TOKEN, StaffFactory, SupportSessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return APIClient()


def customer(client, token=DEFAULT_TOKEN):
    client.credentials(HTTP_AUTHORIZATION=f"Session {token}")
    return client


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["detail"]
    assert body["request_id"] == response["X-Request-ID"]


def test_create_session_returns_token_once_and_ws_url(client):
    response = client.post("/api/v1/sessions/", {}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "token", "status", "created_at", "ws_url"}
    assert body["status"] == "open"
    assert body["ws_url"].endswith(f"/ws/sessions/{body['id']}/")
    detail = customer(client, body["token"]).get(f"/api/v1/sessions/{body['id']}/")
    assert detail.status_code == 200
    assert "token" not in detail.json() and "token_hash" not in detail.json()


def test_create_session_validates_email(client):
    response = client.post("/api/v1/sessions/", {"customer_email": "nope"}, format="json")
    assert_error(response, 400, "invalid_field")


def test_session_creation_is_throttled_per_ip(client, settings):
    from rest_framework.settings import api_settings

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"session_create": "2/min"},
    }
    api_settings.reload()
    from sessions_app.api import SessionCreateThrottle

    SessionCreateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    try:
        codes = [client.post("/api/v1/sessions/", {}, format="json").status_code for _ in range(3)]
        assert codes == [201, 201, 429]
        assert_error(client.post("/api/v1/sessions/", {}, format="json"), 429, "throttled")
    finally:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK}
        SessionCreateThrottle.THROTTLE_RATES = {"session_create": "30/min"}
        api_settings.reload()


@pytest.mark.parametrize("bad_id", ["undefined", "null", "%20", "1234"])
def test_non_uuid_session_id_is_400_without_a_query(client, bad_id, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = customer(client).get(f"/api/v1/sessions/{bad_id}/messages/")
    assert_error(response, 400, "invalid_session_id")


def test_unknown_session_is_404(client):
    response = customer(client).get("/api/v1/sessions/6f1c1f7e-0000-4000-8000-000000000000/")
    assert_error(response, 404, "session_not_found")


def test_another_sessions_token_is_404_not_403(client):
    session = SupportSessionFactory()
    response = customer(client, "someone-elses-token").get(f"/api/v1/sessions/{session.pk}/")
    assert_error(response, 404, "session_not_found")


def test_missing_credentials_is_401(client):
    session = SupportSessionFactory()
    assert_error(client.get(f"/api/v1/sessions/{session.pk}/"), 401, "not_authenticated")


def test_messages_are_listed_in_seq_order_with_pagination_and_after_seq(client):
    session = SupportSessionFactory(handled_by="human")
    for n in range(1, 8):
        message_create(session_id=session.pk, role="agent", content=f"m{n}")
    url = f"/api/v1/sessions/{session.pk}/messages/"
    page = customer(client).get(url, {"limit": 3}).json()
    assert page["count"] == 7 and [m["seq"] for m in page["results"]] == [1, 2, 3]
    assert page["next"] and page["previous"] is None
    after = client.get(url, {"after_seq": 5}).json()
    assert [m["seq"] for m in after["results"]] == [6, 7]
    assert_error(client.get(url, {"limit": 0}), 400, "invalid_field")
    assert_error(client.get(url, {"limit": 101}), 400, "invalid_field")


def test_message_listing_query_count_does_not_grow_with_messages(
    client, django_assert_max_num_queries
):
    session = SupportSessionFactory(handled_by="human")
    for n in range(30):
        message_create(session_id=session.pk, role="agent", content=f"m{n}")
    with django_assert_max_num_queries(2):  # the session, then the page with its total
        response = customer(client).get(f"/api/v1/sessions/{session.pk}/messages/")
    assert len(response.json()["results"]) == 30


def test_message_page_totals_are_right_on_every_page_and_past_the_end(
    client, django_assert_num_queries
):
    # The total rides on the page's rows (COUNT(*) OVER ()); a page with no rows must still
    # say how many there are, and internal notes never count.
    session = SupportSessionFactory(handled_by="human")
    url = f"/api/v1/sessions/{session.pk}/messages/"
    assert customer(client).get(url).json()["count"] == 0
    for n in range(1, 8):
        message_create(session_id=session.pk, role="agent", content=f"m{n}")
    Message.objects.create(session=session, seq=8, role="agent", content="note", internal=True)
    last = client.get(url, {"limit": 3, "offset": 6}).json()
    assert last["count"] == 7 and [m["seq"] for m in last["results"]] == [7]
    assert last["next"] is None and last["previous"]
    with django_assert_num_queries(3):  # no row to carry the total: it is counted
        past = client.get(url, {"limit": 3, "offset": 50}).json()
    assert past["count"] == 7 and past["results"] == []
    newer = client.get(url, {"after_seq": 5, "limit": 1}).json()
    assert newer["count"] == 2 and [m["seq"] for m in newer["results"]] == [6]


def test_post_message_is_idempotent_by_client_msg_id(client):
    session = SupportSessionFactory(handled_by="human")
    url = f"/api/v1/sessions/{session.pk}/messages/"
    first = customer(client).post(url, {"content": "hi", "client_msg_id": "k1"}, format="json")
    again = client.post(url, {"content": "hi", "client_msg_id": "k1"}, format="json")
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert Message.objects.count() == 1


def test_post_message_validation_errors(client, settings):
    settings.CHAT_MAX_MESSAGE_CHARS = 10
    session = SupportSessionFactory()
    url = f"/api/v1/sessions/{session.pk}/messages/"
    customer(client)
    assert_error(client.post(url, {"content": ""}, format="json"), 400, "invalid_field")
    assert_error(client.post(url, {}, format="json"), 400, "invalid_field")
    assert_error(client.post(url, {"content": "x" * 11}, format="json"), 413, "too_long")
    assert_error(client.post(url, "{oops", content_type="application/json"), 400, "invalid_json")
    assert_error(
        client.post(url, {"content": "hi", "client_msg_id": "has space"}, format="json"),
        400,
        "invalid_field",
    )
    assert Message.objects.count() == 0


def test_post_to_closed_session_is_409(client):
    session = SupportSessionFactory(status="closed")
    response = customer(client).post(
        f"/api/v1/sessions/{session.pk}/messages/", {"content": "hello?"}, format="json"
    )
    assert_error(response, 409, "session_closed")


def test_oversized_body_is_413(client):
    session = SupportSessionFactory()
    response = customer(client).post(
        f"/api/v1/sessions/{session.pk}/messages/",
        '{"content": "' + "x" * 300_000 + '"}',
        content_type="application/json",
    )
    assert_error(response, 413, "too_large")


@pytest.mark.django_db(transaction=True)
def test_post_with_wait_returns_the_agents_reply(client, demo_kb):
    session = SupportSessionFactory()
    response = customer(client).post(
        f"/api/v1/sessions/{session.pk}/messages/?wait=5",
        {"content": "How do I reset my password?"},
        format="json",
    )
    assert response.status_code == 201
    reply = response.json()["reply"]
    assert reply["role"] == "assistant"
    assert [s["title"] for s in reply["sources"]] == ["Resetting your password"]
    assert 0 <= reply["confidence"] <= 1


@pytest.mark.django_db(transaction=True)
def test_waits_beyond_the_process_cap_return_at_once_without_the_reply(client, demo_kb, settings):
    # Eager Celery stores the AI's reply before the view polls: with a free slot the reply
    # comes back; with none the message is stored and returned without waiting for it.
    settings.API_WAIT_MAX_CONCURRENT = 1
    url = f"/api/v1/sessions/{SupportSessionFactory().pk}/messages/?wait=5"
    for _ in range(2):  # the slot is given back after each wait
        response = customer(client).post(
            url, {"content": "How do I reset my password?"}, format="json"
        )
        assert response.status_code == 201 and response.json()["reply"]["role"] == "assistant"
    settings.API_WAIT_MAX_CONCURRENT = 0
    response = client.post(url, {"content": "And my email?"}, format="json")
    assert response.status_code == 201
    assert response.json()["reply"] is None
    assert Message.objects.filter(content="And my email?").exists()


def test_wait_over_30_is_refused(client):
    session = SupportSessionFactory()
    response = customer(client).post(
        f"/api/v1/sessions/{session.pk}/messages/?wait=31", {"content": "hi"}, format="json"
    )
    assert_error(response, 400, "invalid_field")


def test_staff_can_list_sessions_and_customers_cannot(client):
    SupportSessionFactory(status="escalated")
    SupportSessionFactory(status="open")
    assert_error(customer(client).get("/api/v1/sessions/"), 403, "permission_denied")
    staff = APIClient()
    staff.force_authenticate(StaffFactory())
    body = staff.get("/api/v1/sessions/", {"status": "escalated"}).json()
    assert body["count"] == 1 and body["results"][0]["status"] == "escalated"


def test_every_response_has_a_request_id(client):
    response = client.get("/health/live")
    assert len(response["X-Request-ID"]) >= 16
    echoed = client.get("/health/live", HTTP_X_REQUEST_ID="abc-123")
    assert echoed["X-Request-ID"] == "abc-123"
    forged = client.get("/health/live", HTTP_X_REQUEST_ID="bad id\nINFO fake")
    assert forged["X-Request-ID"] != "bad id\nINFO fake"


def test_unknown_api_url_uses_the_error_shape(client):
    assert_error(client.get("/api/v1/nothing/"), 404, "not_found")


def test_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/v1/sessions/{session_id}/messages/" in schema.json()["paths"]
    assert client.get("/api/docs/").status_code == 200


def test_wait_on_a_staff_message_returns_at_once_with_no_reply(client):
    """The AI answers customers only: a staff or API-key message never waits for a reply."""
    import time

    session = SupportSessionFactory()
    staff = APIClient()
    staff.force_authenticate(StaffFactory())
    started = time.monotonic()
    response = staff.post(
        f"/api/v1/sessions/{session.pk}/messages/?wait=5", {"content": "On it."}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["reply"] is None
    assert time.monotonic() - started < 2


def test_message_posted_with_an_api_key_is_an_agent_message_naming_the_key():
    from apikeys.services import api_key_create
    from chat.models import MessageRole

    session = SupportSessionFactory()
    key = api_key_create(name="Shop backend", scopes=["read", "write"]).key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    response = client.post(
        f"/api/v1/sessions/{session.pk}/messages/", {"content": "Your parcel left."}, format="json"
    )
    assert response.status_code == 201
    message = Message.objects.get(pk=response.json()["id"])
    assert (message.role, message.author, message.metadata.get("api_key")) == (
        MessageRole.AGENT,
        None,
        "Shop backend",
    )
