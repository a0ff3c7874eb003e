"""REST lifecycle endpoints: escalate, close, assign, rate."""

import pytest
from rest_framework.test import APIClient

from sessions_app.models import SupportSession
from tests.factories import DEFAULT_TOKEN, StaffFactory, SupportSessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client():
    client = APIClient()
    client.force_authenticate(StaffFactory())
    return client


@pytest.fixture
def customer_client():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Session {DEFAULT_TOKEN}")
    return client


def url(session, action):
    return f"/api/v1/sessions/{session.pk}/{action}/"


def test_staff_escalates_assigns_and_closes(staff_client):
    session = SupportSessionFactory()
    agent = StaffFactory(first_name="Dana", last_name="Lee")
    body = staff_client.post(url(session, "escalate"), {"reason": "vip"}, format="json").json()
    assert body["status"] == "escalated"
    body = staff_client.post(
        url(session, "assign"), {"assignee_id": agent.pk}, format="json"
    ).json()
    assert (body["handled_by"], body["assignee_name"]) == ("human", "Dana Lee")
    body = staff_client.post(url(session, "assign"), {"assignee_id": None}, format="json").json()
    assert (body["status"], body["handled_by"], body["assignee"]) == ("open", "ai", None)
    body = staff_client.post(url(session, "close")).json()
    assert body["status"] == "closed" and body["closed_at"]


def test_customer_cannot_run_staff_actions(customer_client):
    session = SupportSessionFactory()
    for action in ("escalate", "close", "assign"):
        response = customer_client.post(url(session, action), {}, format="json")
        assert response.status_code == 403, action
        assert response.json()["error"]["code"] == "permission_denied"
    assert SupportSession.objects.get(pk=session.pk).status == "open"


def test_assign_to_a_non_staff_user_is_refused(staff_client):
    session = SupportSessionFactory()
    response = staff_client.post(url(session, "assign"), {"assignee_id": 99999}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_field"


def test_customer_rates_a_closed_session_once_it_is_closed(customer_client):
    session = SupportSessionFactory()
    early = customer_client.post(url(session, "rate"), {"csat": 5}, format="json")
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "invalid_transition"
    SupportSession.objects.filter(pk=session.pk).update(status="closed")
    assert customer_client.post(url(session, "rate"), {"csat": 9}, format="json").status_code == 400
    rated = customer_client.post(url(session, "rate"), {"csat": 5}, format="json")
    assert rated.status_code == 200 and rated.json()["csat"] == 5


def test_closing_a_closed_session_is_harmless_and_escalating_it_conflicts(staff_client):
    session = SupportSessionFactory(status="closed")
    assert staff_client.post(url(session, "close")).status_code == 200
    response = staff_client.post(url(session, "escalate"), {}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "session_closed"


def test_lifecycle_action_with_an_api_key_has_no_actor_and_names_the_key():
    from apikeys.services import api_key_create
    from chat.models import Message

    session = SupportSessionFactory()
    key = api_key_create(name="Shop backend", scopes=["write"]).key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    response = client.post(url(session, "escalate"), {"reason": "vip"}, format="json")
    assert response.status_code == 200, response.content
    note = Message.objects.get(session=session, metadata__event="escalated")
    assert (note.author, note.metadata["api_key"]) == (None, "Shop backend")
