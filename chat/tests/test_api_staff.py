"""REST replies and notes by staff and API keys: the message path, assignee rule, idempotency."""

from __future__ import annotations

import pytest

from chat.models import Message, MessageRole
from sessions_app.models import SupportSession
from tests.factories import StaffFactory, SupportSessionFactory
from tests.rest import api_client, assert_error

pytestmark = pytest.mark.django_db


def messages_url(session):
    return f"/api/v1/sessions/{session.pk}/messages/"


def notes_url(session):
    return f"/api/v1/sessions/{session.pk}/notes/"


def test_staff_reply_to_an_unassigned_session_takes_it_over_then_answers():
    agent = StaffFactory(first_name="Dana", last_name="Lee")
    session = SupportSessionFactory()
    response = api_client("staff", user=agent).post(
        messages_url(session), {"content": "Hello, Dana here."}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["role"], body["author"]["id"]) == ("agent", agent.pk)
    session.refresh_from_db()
    assert (session.status, session.handled_by, session.assignee) == ("escalated", "human", agent)
    # The take-over's timeline line comes first, then the reply.
    stored = Message.objects.filter(session=session).order_by("seq")
    assert [(m.role, m.metadata.get("event")) for m in stored] == [
        ("system", "taken_over"),
        ("agent", None),
    ]
    assert stored[0].content == "Dana Lee took the conversation."


def test_staff_reply_to_another_agents_session_is_409_already_assigned():
    holder = StaffFactory()
    session = SupportSessionFactory(status="escalated", handled_by="human", assignee=holder)
    response = api_client("staff").post(messages_url(session), {"content": "Me too"}, format="json")
    assert_error(response, 409, "already_assigned")
    assert not Message.objects.filter(session=session).exists()
    # The holder may reply.
    ok = api_client("staff", user=holder).post(
        messages_url(session), {"content": "On it"}, format="json"
    )
    assert ok.status_code == 201


def test_api_key_reply_keeps_the_session_as_it_is_and_respects_the_holder():
    session = SupportSessionFactory()
    client = api_client("key_write")
    response = client.post(messages_url(session), {"content": "Parcel shipped"}, format="json")
    assert response.status_code == 201
    stored = Message.objects.get(pk=response.json()["id"])
    assert (stored.role, stored.author, stored.metadata["api_key"]) == (
        MessageRole.AGENT,
        None,
        "key_write integration",
    )
    assert SupportSession.objects.get(pk=session.pk).handled_by == "ai"
    held = SupportSessionFactory(status="escalated", handled_by="human", assignee=StaffFactory())
    assert_error(
        client.post(messages_url(held), {"content": "x"}, format="json"), 409, "already_assigned"
    )


def test_staff_reply_is_idempotent_on_client_msg_id_even_after_a_handover():
    agent = StaffFactory()
    session = SupportSessionFactory()
    client = api_client("staff", user=agent)
    body = {"content": "Hi", "client_msg_id": "reply-1"}
    first = client.post(messages_url(session), body, format="json")
    # Another agent takes the session meanwhile; the retry still gets the stored reply.
    SupportSession.objects.filter(pk=session.pk).update(assignee=StaffFactory())
    again = client.post(messages_url(session), body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Message.objects.filter(session=session, role="agent").count() == 1


def test_staff_reply_to_a_closed_session_is_409_and_changes_nothing():
    session = SupportSessionFactory(status="closed")
    response = api_client("staff").post(messages_url(session), {"content": "Hi"}, format="json")
    assert_error(response, 409, "session_closed")
    assert SupportSession.objects.get(pk=session.pk).assignee is None


def test_an_invalid_staff_reply_does_not_take_the_session_over(settings):
    settings.CHAT_MAX_MESSAGE_CHARS = 10
    session = SupportSessionFactory()
    client = api_client("staff")
    assert_error(
        client.post(messages_url(session), {"content": "x" * 11}, format="json"), 413, "too_long"
    )
    assert SupportSession.objects.get(pk=session.pk).assignee is None


def test_notes_are_internal_idempotent_and_allowed_on_closed_sessions():
    agent = StaffFactory()
    session = SupportSessionFactory(status="closed")
    client = api_client("staff", user=agent)
    body = {"content": "Customer is a VIP", "client_msg_id": "note-1"}
    first = client.post(notes_url(session), body, format="json")
    again = client.post(notes_url(session), body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    note = first.json()
    assert (note["internal"], note["author"]["id"], note["metadata"]["event"]) == (
        True,
        agent.pk,
        "note",
    )
    # The customer never sees it.
    listed = api_client("customer").get(messages_url(session)).json()
    assert listed["count"] == 0


def test_api_key_note_carries_the_key_name():
    session = SupportSessionFactory()
    response = api_client("key_write").post(
        notes_url(session), {"content": "Order #12 refunded"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["metadata"] == {"api_key": "key_write integration", "event": "note"}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "invalid_field"),
        ({"content": ""}, 400, "invalid_field"),
        ({"content": "ok", "client_msg_id": "has space"}, 400, "invalid_field"),
        ({"content": "x" * 4001}, 413, "too_long"),
    ],
)
def test_bad_note_input(body, status, code):
    session = SupportSessionFactory()
    assert_error(api_client("staff").post(notes_url(session), body, format="json"), status, code)
    json_list = api_client("staff").post(notes_url(session), [1], format="json")
    assert_error(json_list, 400, "invalid_field")
