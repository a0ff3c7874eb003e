"""REST: teams list, an agent's own status, a session's audit trail; reply-assigns; team inbox."""

from __future__ import annotations

import pytest

from chat import selectors as chat_selectors
from chat.serializers import inbox_summary
from chat.services import agent_message_send, connection_register
from sessions_app import services as session_services
from sessions_app.exceptions import AlreadyAssigned
from sessions_app.models import AgentProfile, SupportSession, Team, Website
from tests.factories import StaffFactory, SupportSessionFactory
from tests.rest import api_client, assert_error

pytestmark = pytest.mark.django_db


def test_teams_list_shows_members_status_load_and_queue(django_assert_max_num_queries):
    site = Website.objects.create(name="Shop")
    team = Team.objects.create(name="Billing", topic_tags=["billing"])
    team.websites.add(site)
    ann, bob = StaffFactory(first_name="Ann", last_name="A"), StaffFactory(first_name="Bob")
    AgentProfile.objects.create(user=ann, capacity=3, status="away")
    team.members.add(ann, bob)
    connection_register(channel_name="bob-console", kind="agent", user_id=bob.pk)
    SupportSessionFactory(status="escalated", team=team)  # waiting
    SupportSessionFactory(status="escalated", team=team, assignee=bob, handled_by="human")
    for n in range(5):  # more teams must not mean more queries
        Team.objects.create(name=f"Team {n}").members.add(StaffFactory())
    client = api_client("key_read")
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/teams/")
    assert response.status_code == 200
    billing = response.json()[0]
    assert (billing["name"], billing["topic_tags"], billing["websites"], billing["waiting"]) == (
        "Billing",
        ["billing"],
        [site.site_key],
        1,
    )
    members = {m["name"]: m for m in billing["members"]}
    assert members["Ann A"] | {"id": 0} == {
        "id": 0,
        "name": "Ann A",
        "status": "away",
        "capacity": 3,
        "connected": False,
        "open_conversations": 0,
    }
    bob_row = members[bob.get_full_name()]
    assert (bob_row["connected"], bob_row["open_conversations"]) == (True, 1)


def test_agent_sets_themself_away_and_back():
    agent = StaffFactory()
    client = api_client("staff", user=agent)
    assert client.get("/api/v1/agents/me/status/").json() == {"status": "online", "capacity": 5}
    response = client.put("/api/v1/agents/me/status/", {"status": "away"}, format="json")
    assert response.json()["status"] == "away"
    assert AgentProfile.objects.get(user=agent).status == "away"
    assert_error(
        client.put("/api/v1/agents/me/status/", {"status": "asleep"}, format="json"),
        400,
        "invalid_field",
    )


def test_session_events_list_the_audit_trail_with_who_did_it():
    dana = StaffFactory(first_name="Dana", last_name="Lee")
    session = SupportSessionFactory()
    session_services.session_escalate(session_id=session.pk, reason="vip", api_key_name="crm")
    session_services.session_assign(session_id=session.pk, assignee=dana, actor=dana)
    session_services.session_close(session_id=session.pk, actor=dana)
    body = api_client("staff").get(f"/api/v1/sessions/{session.pk}/events/").json()
    assert [(e["field"], e["old_value"], e["new_value"], e["actor"]) for e in body] == [
        ("status", "open", "escalated", "API key crm"),
        ("assignee", "", "Dana Lee", "Dana Lee"),
        ("status", "escalated", "closed", "Dana Lee"),
    ]


def test_console_reply_to_another_agents_conversation_is_already_assigned():
    holder, other = StaffFactory(), StaffFactory()
    session = SupportSessionFactory()
    session_services.session_take_over(session_id=session.pk, user=holder)
    with pytest.raises(AlreadyAssigned):
        agent_message_send(session_id=session.pk, user=other, content="Me too")
    assert not session.messages.filter(role="agent").exists()


def test_console_reply_to_a_waiting_conversation_takes_it_with_a_note():
    dana = StaffFactory(first_name="Dana", last_name="Lee")
    session = SupportSessionFactory(status="escalated")
    agent_message_send(session_id=session.pk, user=dana, content="Hi, Dana here")
    session.refresh_from_db()
    assert (session.assignee, session.handled_by) == (dana, "human")
    assert [m.content for m in session.messages.order_by("seq")] == [
        "Dana Lee took the conversation.",
        "Hi, Dana here",
    ]


def test_inbox_team_filter_shows_my_teams_open_conversations():
    ann = StaffFactory()
    mine, theirs = Team.objects.create(name="Mine"), Team.objects.create(name="Theirs")
    mine.members.add(ann)
    waiting = SupportSessionFactory(status="escalated", team=mine)
    SupportSessionFactory(status="closed", team=mine)
    SupportSessionFactory(status="escalated", team=theirs)
    SupportSessionFactory(status="escalated")
    rows = list(chat_selectors.inbox_sessions(user=ann, filter_name="team"))
    assert [s.pk for s in rows] == [waiting.pk]
    summary = inbox_summary(rows[0])
    assert summary["team"] == {"id": mine.pk, "name": "Mine"}
    assert SupportSession.objects.count() == 4
