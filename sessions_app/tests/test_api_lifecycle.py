"""REST lifecycle: release and reopen, conflicts as 409 with a code, 400/404 for bad ids."""

from __future__ import annotations

import uuid

import pytest

from chat.models import Message
from sessions_app.models import SupportSession
from tests.factories import StaffFactory, SupportSessionFactory
from tests.rest import api_client, assert_error

pytestmark = pytest.mark.django_db

ACTIONS = ("escalate", "assign", "release", "close", "reopen", "rate", "notes", "messages")


def url(session_id, action):
    return f"/api/v1/sessions/{session_id}/{action}/"


def test_release_hands_an_escalated_session_back_to_the_ai():
    agent = StaffFactory()
    session = SupportSessionFactory(status="escalated", handled_by="human", assignee=agent)
    body = api_client("staff").post(url(session.pk, "release")).json()
    assert (body["status"], body["handled_by"], body["assignee"]) == ("open", "ai", None)
    events = Message.objects.filter(session=session).values_list("metadata__event", flat=True)
    assert list(events) == ["released"]


def test_release_of_a_closed_session_is_409_session_closed():
    session = SupportSessionFactory(status="closed")
    assert_error(api_client("staff").post(url(session.pk, "release")), 409, "session_closed")


def test_reopen_by_api_key_follows_the_rule_and_records_no_actor():
    agent = StaffFactory()
    human = SupportSessionFactory(status="closed", handled_by="human", assignee=agent)
    robot = SupportSessionFactory(status="closed")
    client = api_client("key_write")
    body = client.post(url(human.pk, "reopen")).json()
    assert (body["status"], body["assignee"]["id"]) == ("escalated", agent.pk)
    assert client.post(url(robot.pk, "reopen")).json()["status"] == "open"
    note = Message.objects.get(session=human, metadata__event="reopened")
    assert note.author is None


def test_reopen_then_the_customer_can_write_again():
    session = SupportSessionFactory(status="closed")
    customer = api_client("customer")
    assert_error(
        customer.post(url(session.pk, "messages"), {"content": "hi"}, format="json"),
        409,
        "session_closed",
    )
    api_client("staff").post(url(session.pk, "reopen"))
    posted = customer.post(url(session.pk, "messages"), {"content": "hi"}, format="json")
    assert posted.status_code == 201


def test_assigning_an_inactive_staff_user_is_400():
    session = SupportSessionFactory()
    gone = StaffFactory(is_active=False)
    response = api_client("staff").post(
        url(session.pk, "assign"), {"assignee_id": gone.pk}, format="json"
    )
    assert_error(response, 400, "invalid_field")


def test_assigning_a_closed_session_is_409():
    session = SupportSessionFactory(status="closed")
    response = api_client("staff").post(
        url(session.pk, "assign"), {"assignee_id": StaffFactory().pk}, format="json"
    )
    assert_error(response, 409, "session_closed")
    assert SupportSession.objects.get(pk=session.pk).assignee is None


@pytest.mark.parametrize("action", ACTIONS)
def test_unknown_session_is_404_and_a_non_uuid_is_400(action):
    client = api_client("staff")
    body = {"assignee_id": None, "csat": 5, "content": "x"}
    assert_error(
        client.post(url(uuid.uuid4(), action), body, format="json"), 404, "session_not_found"
    )
    for bad in ("undefined", "null", "123"):
        assert_error(client.post(url(bad, action), body, format="json"), 400, "invalid_session_id")


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("escalate", {"reason": "x" * 201}),
        ("assign", {}),
        ("assign", {"assignee_id": "me"}),
        ("rate", {"csat": "five"}),
    ],
)
def test_bad_lifecycle_input_is_400_invalid_field(action, body):
    session = SupportSessionFactory(status="closed" if action == "rate" else "open")
    client = api_client("customer" if action == "rate" else "staff")
    assert_error(client.post(url(session.pk, action), body, format="json"), 400, "invalid_field")
