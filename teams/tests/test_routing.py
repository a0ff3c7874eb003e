"""Routing: rules, site and topic; round robin with capacity, away and presence; queue drains."""

from __future__ import annotations

import pytest

from agents.models import Article
from agents.signals import index_updates_muted
from chat.models import Message
from chat.services import connection_register, connection_remove, message_create
from sessions_app import services as session_services
from sessions_app.models import AgentProfile, SessionEvent, SupportSession, Team, Website
from teams import services
from teams.models import RoutingRule
from tests.factories import StaffFactory, SupportSessionFactory

pytestmark = pytest.mark.django_db


def online(user, capacity=5, status="online"):
    """Give ``user`` a profile and an open console socket (a Connection row)."""
    AgentProfile.objects.update_or_create(
        user=user, defaults={"capacity": capacity, "status": status}
    )
    connection_register(channel_name=f"agent-{user.pk}", kind="agent", user_id=user.pk)
    return user


def escalated(reason: str = "test", **fields) -> SupportSession:
    session = SupportSessionFactory(**fields)
    session_services.session_escalate(session_id=session.pk, reason=reason)
    return session


def assistant_reply(session, *, article: Article) -> None:
    message_create(
        session_id=session.pk,
        role="assistant",
        content="Maybe this helps",
        sources=[{"article_id": article.pk, "title": article.title, "score": 0.4}],
    )


@pytest.fixture
def site():
    return Website.objects.create(name="Shop")


def test_a_site_routes_to_its_team_and_an_online_member_gets_it(site):
    team = Team.objects.create(name="Shop team")
    team.websites.add(site)
    agent = online(StaffFactory(first_name="Dana", last_name="Lee"))
    team.members.add(agent)
    session = escalated(website=site)
    assert services.session_route(session_id=session.pk) == agent
    session.refresh_from_db()
    assert (session.team, session.assignee, session.handled_by) == (team, agent, "human")
    # Through the assign service: the timeline says who joined; the trail says who decided.
    note = Message.objects.filter(session=session).order_by("-seq").first()
    assert note.content == "Dana Lee joined the conversation."
    trail = [(e.field, e.old_value, e.new_value, e.actor_name) for e in session.events.all()]
    assert trail == [
        ("status", "open", "escalated", "System"),
        ("team", "", "Shop team", "System"),
        ("assignee", "", "Dana Lee", "System"),
    ]


def test_the_topic_of_the_last_matched_article_routes_to_the_team_with_that_tag():
    with index_updates_muted():
        article = Article.objects.create(
            slug="refunds", title="Refunds", body="…", tags=["Billing"]
        )
    billing = Team.objects.create(name="Billing", topic_tags=["billing"])
    Team.objects.create(name="Tech", topic_tags=["api"])
    session = SupportSessionFactory()
    assistant_reply(session, article=article)
    session_services.session_escalate(session_id=session.pk, reason="low_confidence")
    services.session_route(session_id=session.pk)
    session.refresh_from_db()
    assert session.team == billing and session.assignee is None  # nobody online: team queue


def test_a_hand_over_reply_without_sources_routes_by_its_best_candidate():
    with index_updates_muted():
        Article.objects.create(slug="api-keys", title="API keys", body="…", tags=["api"])
    tech = Team.objects.create(name="Tech", topic_tags=["api"])
    session = SupportSessionFactory()
    message_create(
        session_id=session.pk,
        role="assistant",
        content="Let me find a person",
        metadata={"candidates": [{"slug": "api-keys", "score": 0.2}]},
    )
    session_services.session_escalate(session_id=session.pk, reason="low_confidence")
    services.session_route(session_id=session.pk)
    assert SupportSession.objects.get(pk=session.pk).team == tech


def test_rules_come_first_in_their_order_and_inactive_ones_are_skipped(site):
    site_team = Team.objects.create(name="Site team")
    site_team.websites.add(site)
    vip, humans, never = (Team.objects.create(name=n) for n in ("VIP", "Humans", "Never"))
    RoutingRule.objects.create(position=0, team=never, reason="human_requested", is_active=False)
    RoutingRule.objects.create(position=5, team=vip, website=site, reason="human_requested")
    RoutingRule.objects.create(position=9, team=humans, reason="human_requested")
    first = escalated(website=site, reason="human_requested, customer_upset")
    second = escalated(reason="human_requested")
    third = escalated(website=site, reason="low_confidence")
    for session in (first, second, third):
        services.session_route(session_id=session.pk)
    teams = [SupportSession.objects.get(pk=s.pk).team for s in (first, second, third)]
    assert teams == [vip, humans, site_team]


def test_no_matching_team_leaves_the_session_in_the_general_queue():
    Team.objects.create(name="Billing", topic_tags=["billing"])
    session = escalated()
    assert services.session_route(session_id=session.pk) is None
    session.refresh_from_db()
    assert (session.team, session.assignee, session.status) == (None, None, "escalated")


def test_round_robin_respects_capacity_away_and_presence():
    team = Team.objects.create(name="Support")
    ann = online(StaffFactory(first_name="Ann"), capacity=1)
    bob = online(StaffFactory(first_name="Bob"), capacity=2)
    away = online(StaffFactory(first_name="Cy"), capacity=9, status="away")
    offline = StaffFactory(first_name="Di")  # no console socket open
    AgentProfile.objects.create(user=offline, capacity=9)
    team.members.add(ann, bob, away, offline)
    got = []
    for _ in range(4):
        session = escalated()
        SupportSession.objects.filter(pk=session.pk).update(team=team)
        got.append(services.session_route(session_id=session.pk))
    assert got == [ann, bob, bob, None]
    assert SupportSession.objects.filter(team=team, assignee__isnull=True).count() == 1


def test_closed_or_released_conversations_no_longer_count_against_capacity():
    team = Team.objects.create(name="Support")
    ann = online(StaffFactory(), capacity=1)
    team.members.add(ann)
    first, second = escalated(), escalated()
    SupportSession.objects.filter(pk__in=[first.pk, second.pk]).update(team=team)
    assert services.session_route(session_id=first.pk) == ann
    assert services.session_route(session_id=second.pk) is None
    session_services.session_close(session_id=first.pk, actor=ann)
    assert services.queue_drain() == 1
    assert SupportSession.objects.get(pk=second.pk).assignee == ann


def test_escalation_routes_and_the_queue_drains_when_an_agent_comes_back(
    django_capture_on_commit_callbacks,
):
    team = Team.objects.create(name="Support", topic_tags=[])
    site = Website.objects.create(name="Shop")
    team.websites.add(site)
    ann = online(StaffFactory(), capacity=5, status="away")
    team.members.add(ann)
    session = SupportSessionFactory(website=site)
    with django_capture_on_commit_callbacks(execute=True):
        session_services.session_escalate(session_id=session.pk, reason="low_confidence")
    session.refresh_from_db()
    assert (session.team, session.assignee) == (team, None)  # Ann is away: the team queue
    with django_capture_on_commit_callbacks(execute=True):
        session_services.agent_status_set(user=ann, status="online")
    assert SupportSession.objects.get(pk=session.pk).assignee == ann


def test_an_agent_opening_the_console_gets_the_waiting_conversations(
    django_capture_on_commit_callbacks,
):
    from chat.signals import agent_connected

    team = Team.objects.create(name="Support")
    ann = StaffFactory()
    AgentProfile.objects.create(user=ann, capacity=2)
    team.members.add(ann)
    waiting = [escalated() for _ in range(3)]
    SupportSession.objects.filter(pk__in=[s.pk for s in waiting]).update(team=team)
    connection_register(channel_name="ann-console", kind="agent", user_id=ann.pk)
    with django_capture_on_commit_callbacks(execute=True):
        agent_connected.send(sender=None, user_id=ann.pk)
    held = SupportSession.objects.filter(assignee=ann).count()
    assert held == 2  # her capacity; the third waits
    connection_remove(channel_name="ann-console")


def test_queue_drain_is_bounded():
    team = Team.objects.create(name="Support")
    ann = online(StaffFactory(), capacity=50)
    team.members.add(ann)
    waiting = [escalated() for _ in range(5)]
    SupportSession.objects.filter(pk__in=[s.pk for s in waiting]).update(team=team)
    assert services.queue_drain(limit=2) == 2
    assert services.queue_drain(limit=10) == 3


def test_manual_team_change_is_audited_with_its_actor():
    team = Team.objects.create(name="Billing")
    staff = StaffFactory(first_name="Dana", last_name="Lee")
    session = SupportSessionFactory()
    session_services.session_team_set(session_id=session.pk, team=team, actor=staff)
    session_services.session_team_set(session_id=session.pk, team=team, actor=staff)  # no-op
    event = SessionEvent.objects.get(session=session)
    assert (event.field, event.new_value, event.actor, event.actor_name) == (
        "team",
        "Billing",
        staff,
        "Dana Lee",
    )
