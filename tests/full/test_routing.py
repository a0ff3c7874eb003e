"""Teams and routing over the real stack: hand-overs spread round robin across real agent sockets.

Three agents in two teams, with capacities; one of them away. Ten escalations through the
REST API of a real Daphne on PostgreSQL and Redis: each goes to the next free, online, not-away
agent of its site's team (an agent in both teams counts against one capacity), the rest wait
in their team's queue, and each agent's own /ws/agent/ socket receives its `assigned` frames,
and only its own. Coming back from away and closing a conversation drain the queues. Also:
two routers racing for an agent's last free place on PostgreSQL, and the admin's full-text
search of message text.
"""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.test import Client
from django.test.utils import CaptureQueriesContext
from websockets.asyncio.client import connect

from tests.factories import StaffFactory, SupportSessionFactory
from tests.full.conftest import Ws, http, in_thread

pytestmark = pytest.mark.full


def login_cookie(user) -> str:
    """The user's login session, stored in the shared database, as a Cookie header value."""
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}"


async def open_console(stack, cookie: str, name: str) -> Ws:
    conn = await connect(
        f"{stack.ws_url}/ws/agent/",
        open_timeout=10,
        close_timeout=3,
        ping_interval=None,
        origin=stack.base_url,
        additional_headers={"Cookie": cookie},
    )
    ws = Ws(conn, name)
    await ws.until(lambda f: f["type"] == "inbox")  # ready, then the first inbox
    return ws


def _setup():
    from apikeys.services import api_key_create
    from sessions_app.models import AgentProfile, Team, Website

    billing_site, tech_site = (
        Website.objects.create(name="Shop"),
        Website.objects.create(name="Dev"),
    )
    billing, tech = Team.objects.create(name="Billing"), Team.objects.create(name="Tech")
    billing.websites.add(billing_site)
    tech.websites.add(tech_site)
    alice = StaffFactory(username="alice", first_name="Alice")
    bob = StaffFactory(username="bob", first_name="Bob")
    carol = StaffFactory(username="carol", first_name="Carol")
    AgentProfile.objects.create(user=alice, capacity=2)
    AgentProfile.objects.create(user=bob, capacity=3)
    AgentProfile.objects.create(user=carol, capacity=3, status="away")
    billing.members.add(alice, bob)
    tech.members.add(bob, carol)  # Bob works in both: one capacity for both
    # Hand-overs in this order: B = the billing site, T = the tech site.
    order = "BTBTBTBTBB"
    sessions = [
        SupportSessionFactory(website=billing_site if kind == "B" else tech_site) for kind in order
    ]
    key = api_key_create(name="routing-test", scopes=["read", "write"]).key
    users = {"alice": alice, "bob": bob, "carol": carol}
    cookies = {name: login_cookie(user) for name, user in users.items()}
    return [str(s.pk) for s in sessions], key, cookies, {n: u.pk for n, u in users.items()}


def _assignees(session_ids):
    from sessions_app.models import SupportSession

    rows = SupportSession.objects.filter(pk__in=session_ids).values_list(
        "pk", "assignee__username", "team__name", "status"
    )
    return {str(pk): (user, team, status) for pk, user, team, status in rows}


def assigned_ids(ws: Ws) -> list[str]:
    return [f["session"]["id"] for f in ws.frames if f["type"] == "assigned"]


@pytest.mark.django_db(transaction=True)
async def test_ten_escalations_spread_round_robin_over_real_agent_sockets(stack):
    ids, key, cookies, _ = await in_thread(_setup)
    consoles = {name: await open_console(stack, cookie, name) for name, cookie in cookies.items()}
    try:
        for session_id in ids:  # one after the other: the round-robin order is then exact
            response = await in_thread(
                http,
                "POST",
                f"{stack.base_url}/api/v1/sessions/{session_id}/escalate/",
                json_body={"reason": "low_confidence"},
                headers={"Authorization": f"Api-Key {key}"},
            )
            assert response.status == 200, response.body
        b1, t1, b2, t2, b3, t3, b4, t4, b5, b6 = ids
        # Alice and Bob alternate (Bob took T1 in between); Carol is away; Alice is full at
        # 2, Bob at 3 across both teams; the rest wait in their team's queue.
        expected = {"alice": [b1, b2], "bob": [t1, t2, b3], "carol": []}
        state = await in_thread(_assignees, ids)
        for name, held in expected.items():
            assert sorted(s for s, (user, _, _) in state.items() if user == name) == sorted(held)
        assert {s for s, (user, _, _) in state.items() if user is None} == {t3, b4, t4, b5, b6}
        assert {team for _, team, _ in state.values()} == {"Billing", "Tech"}
        # Each agent's own socket heard of each of its assignments, and of no one else's.
        for name, held in expected.items():
            if held:
                await consoles[name].until(
                    lambda f, held=held, name=name: set(held) <= set(assigned_ids(consoles[name])),
                    timeout=10,
                )
        await consoles["carol"].quiet(0.5)
        for name, held in expected.items():
            assert sorted(assigned_ids(consoles[name])) == sorted(held), name

        # Carol comes back from away (her own REST call): the Tech queue drains to her.
        # A cookie-authenticated PUT needs CSRF, as the console sends it (cookie + header).
        csrf = "k" * 32
        response = await in_thread(
            http,
            "PUT",
            f"{stack.base_url}/api/v1/agents/me/status/",
            json_body={"status": "online"},
            headers={"Cookie": f"{cookies['carol']}; csrftoken={csrf}", "X-CSRFToken": csrf},
        )
        assert response.status == 200, response.body
        await consoles["carol"].until(
            lambda f: set(assigned_ids(consoles["carol"])) >= {t3, t4}, timeout=10
        )
        # Alice closes one of hers: the oldest waiting Billing conversation is hers now.
        response = await in_thread(
            http,
            "POST",
            f"{stack.base_url}/api/v1/sessions/{b1}/close/",
            headers={"Authorization": f"Api-Key {key}"},
        )
        assert response.status == 200
        await consoles["alice"].until(lambda f: b4 in assigned_ids(consoles["alice"]), timeout=10)
        state = await in_thread(_assignees, ids)
        assert {s for s, (user, _, _) in state.items() if user is None} == {b5, b6}
        assert sorted(assigned_ids(consoles["carol"])) == sorted([t3, t4])
        assert sorted(assigned_ids(consoles["bob"])) == sorted([t1, t2, b3])
    finally:
        for ws in consoles.values():
            await ws.close()


def _race_for_the_last_place(rounds: int) -> list[int]:
    """Each round: an agent with one free place, two hand-overs routed at the same instant."""
    from django.db import connections

    from chat.services import connection_register
    from sessions_app.models import AgentProfile, SupportSession, Team
    from teams.services import session_route

    results = []
    for n in range(rounds):
        team = Team.objects.create(name=f"Race {n}")
        agent = StaffFactory()
        AgentProfile.objects.create(user=agent, capacity=1)
        team.members.add(agent)
        connection_register(channel_name=f"race-{n}", kind="agent", user_id=agent.pk)
        sessions = [SupportSessionFactory(status="escalated", team=team) for _ in range(2)]
        barrier = threading.Barrier(2)

        def route(session_id, barrier=barrier):
            try:
                barrier.wait(timeout=10)
                session_route(session_id=session_id)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=route, args=(s.pk,)) for s in sessions]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        results.append(SupportSession.objects.filter(assignee=agent).count())
    return results


@pytest.mark.django_db(transaction=True)
def test_two_routers_at_once_never_exceed_an_agents_capacity_on_postgresql():
    from django.db import connection

    assert connection.vendor == "postgresql"
    assert _race_for_the_last_place(rounds=6) == [1] * 6


@pytest.mark.django_db(transaction=True)
def test_admin_search_uses_full_text_search_of_the_messages():
    from django.db import connection

    from chat.services import message_create

    wanted, other = SupportSessionFactory(), SupportSessionFactory()
    message_create(session_id=wanted.pk, role="customer", content="My parcel never arrived")
    message_create(session_id=other.pk, role="customer", content="Parcels and refunds")
    client = Client()
    client.force_login(StaffFactory(is_superuser=True))
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/admin/sessions_app/supportsession/", {"q": "parcel"})
    assert page.status_code == 200
    # Whole words through the GIN-indexed tsvector ("Parcels" is another word in 'simple').
    assert {str(s.pk) for s in page.context["cl"].result_list} == {str(wanted.pk)}
    assert any("to_tsvector" in q["sql"] and "websearch_to_tsquery" in q["sql"] for q in queries)
    assert len(queries) <= 12
