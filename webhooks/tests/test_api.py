"""REST API of webhooks: CRUD, secret once, scopes, deliveries, redeliver, error shape."""

from __future__ import annotations

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from apikeys.services import api_key_create
from sessions_app.services import session_open
from tests.factories import StaffFactory, UserFactory
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.tests.receiver import Receiver

URL = "/api/v1/webhooks/"


@pytest.fixture(autouse=True)
def _local_targets(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True


@pytest.fixture
def staff(db):
    client = APIClient()
    client.force_authenticate(StaffFactory())
    return client


def key_client(*scopes: str) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Api-Key {api_key_create(name='CRM', scopes=list(scopes)).key}"
    )
    return client


def create(client, **extra):
    body = {"url": "http://127.0.0.1:9/hooks", "events": ["session.created"], **extra}
    return client.post(URL, body, format="json")


def test_crud_and_secret_shown_once(staff):
    response = create(staff, description="CRM")
    assert response.status_code == 201
    created = response.json()
    assert created["secret"].startswith("whsec_")
    endpoint_id = created["id"]
    listed = staff.get(URL).json()
    assert listed["count"] == 1 and "secret" not in listed["results"][0]
    detail = staff.get(f"{URL}{endpoint_id}/").json()
    assert "secret" not in detail and detail["events"] == ["session.created"]
    patched = staff.patch(
        f"{URL}{endpoint_id}/", {"events": ["session.closed", "message.created"]}, format="json"
    )
    assert patched.status_code == 200
    assert patched.json()["events"] == ["message.created", "session.closed"]
    put = staff.put(f"{URL}{endpoint_id}/", {"url": "http://127.0.0.1:10/x"}, format="json")
    assert put.status_code == 400  # PUT needs events too
    assert staff.delete(f"{URL}{endpoint_id}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"url": "http://127.0.0.1:9/x", "events": []}, "events"),
        ({"url": "http://127.0.0.1:9/x", "events": ["session.exploded"]}, "events"),
        ({"events": ["session.created"]}, "url"),
    ],
)
def test_bad_input_is_400_in_the_error_shape(staff, body, detail):
    response = staff.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_field"
    assert response.json()["error"]["detail"].startswith(detail)
    assert "request_id" in response.json()


def test_unknown_endpoint_is_404(staff):
    response = staff.get(f"{URL}999/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "webhook_not_found"


def test_api_key_scopes(db):
    reader = key_client("read")
    assert reader.get(URL).status_code == 200
    refused = create(reader)
    assert refused.status_code == 403
    assert "write" in refused.json()["error"]["detail"]
    assert create(key_client("write")).status_code == 201
    assert create(key_client("ops")).status_code == 403


def test_anonymous_and_non_staff_are_refused(db):
    assert APIClient().get(URL).status_code == 401
    user = APIClient()
    user.force_authenticate(UserFactory())
    assert user.get(URL).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_deliveries_list_and_redeliver(staff):
    with Receiver() as receiver:
        endpoint_id = staff.post(
            URL, {"url": receiver.url, "events": ["session.created"]}, format="json"
        ).json()["id"]
        with transaction.atomic():
            session_open()
        deliveries = staff.get(f"{URL}{endpoint_id}/deliveries/").json()
        assert deliveries["count"] == 1
        delivery = deliveries["results"][0]
        assert delivery["status"] == "succeeded"
        assert delivery["attempt_log"][0]["status_code"] == 200
        assert '"received": true' in delivery["attempt_log"][0]["response_excerpt"]

        redelivered = staff.post(f"{URL}{endpoint_id}/deliveries/{delivery['id']}/redeliver/")
        assert redelivered.status_code == 202
        assert redelivered.json()["redelivery_of"] == delivery["id"]
        assert redelivered.json()["event_id"] == delivery["event_id"]
        assert len(receiver.requests) == 2
        first, second = receiver.requests
        assert first.body == second.body  # the same event
        assert first.headers["X-Supportdesk-Delivery"] != second.headers["X-Supportdesk-Delivery"]

        filtered = staff.get(f"{URL}{endpoint_id}/deliveries/?status=gave_up").json()
        assert filtered["count"] == 0
        bad = staff.get(f"{URL}{endpoint_id}/deliveries/?status=exploded")
        assert bad.status_code == 400

        # A disabled endpoint is not redelivered to (409), until re-enabled.
        staff.patch(f"{URL}{endpoint_id}/", {"is_active": False}, format="json")
        conflict = staff.post(f"{URL}{endpoint_id}/deliveries/{delivery['id']}/redeliver/")
        assert conflict.status_code == 409
        assert conflict.json()["error"]["code"] == "endpoint_disabled"
        unknown = staff.post(
            f"{URL}{endpoint_id}/deliveries/00000000-0000-0000-0000-000000000000/redeliver/"
        )
        assert unknown.status_code == 404
        assert WebhookDelivery.objects.count() == 2
