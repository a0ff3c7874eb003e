"""Agent-console sockets lose their powers on logout, deactivation or loss of staff (4003)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session

from chat.consumers import CloseCode
from chat.models import Connection
from chat.revocation import agent_sockets_revoke
from tests.factories import StaffFactory, SupportSessionFactory

from .conftest import TIMEOUT
from .test_agent_consumer import agent_socket, ready_agent

pytestmark = pytest.mark.django_db(transaction=True)

User = get_user_model()


@database_sync_to_async
def make_staff():
    return StaffFactory()


@database_sync_to_async
def save_user(user, **fields):
    for name, value in fields.items():
        setattr(user, name, value)
    user.save()


async def expect_forbidden_close(ws) -> None:
    while True:
        output = await ws.receive_output(timeout=TIMEOUT)
        if output["type"] == "websocket.close":
            assert output["code"] == CloseCode.FORBIDDEN
            return


@pytest.mark.parametrize(
    "change", [{"is_active": False}, {"is_staff": False}], ids=["deactivated", "not_staff"]
)
async def test_losing_staff_rights_closes_the_console_socket_4003(change):
    agent = await make_staff()
    other = await make_staff()
    async with agent_socket(agent) as ws, agent_socket(other) as bystander:
        await ready_agent(ws)
        await ready_agent(bystander)
        await save_user(agent, **change)
        await expect_forbidden_close(ws)
        # Another agent's socket is untouched.
        await bystander.send_json_to({"type": "ping"})
        while (await bystander.receive_json_from(timeout=TIMEOUT))["type"] != "pong":
            pass
    assert await database_sync_to_async(Connection.objects.count)() == 0


async def test_saving_an_active_staff_user_closes_nothing():
    agent = await make_staff()
    async with agent_socket(agent) as ws:
        await ready_agent(ws)
        await save_user(agent, first_name="Renamed")
        await ws.send_json_to({"type": "ping"})
        while (await ws.receive_json_from(timeout=TIMEOUT))["type"] != "pong":
            pass


async def test_logout_event_closes_only_that_login_sessions_sockets():
    agent = await make_staff()
    async with agent_socket(agent) as first:
        await ready_agent(first)
        first_key = await database_sync_to_async(
            lambda: Session.objects.order_by("-expire_date").first().session_key
        )()
        async with agent_socket(agent) as second:  # another login session of the same user
            await ready_agent(second)
            await database_sync_to_async(agent_sockets_revoke)(
                user_id=agent.pk, reason="logout", session_key=first_key
            )
            await expect_forbidden_close(first)
            await second.send_json_to({"type": "ping"})
            while (await second.receive_json_from(timeout=TIMEOUT))["type"] != "pong":
                pass


@pytest.mark.parametrize("how", ["deactivated_silently", "session_deleted"])
async def test_a_missed_event_is_caught_by_the_recheck_on_the_next_privileged_frame(settings, how):
    """Changes that send no signal (queryset.update, a session purge) still revoke powers."""
    settings.CHAT_AGENT_RECHECK_SECONDS = 0
    agent = await make_staff()
    session = await database_sync_to_async(SupportSessionFactory)()
    async with agent_socket(agent) as ws:
        await ready_agent(ws)
        if how == "deactivated_silently":
            await database_sync_to_async(
                lambda: User.objects.filter(pk=agent.pk).update(is_active=False)
            )()
        else:
            await database_sync_to_async(lambda: Session.objects.all().delete())()
        await ws.send_json_to({"type": "join", "session_id": str(session.pk)})
        output = await ws.receive_output(timeout=TIMEOUT)
        # Closed before the handler ran: no session frame, no transcript.
        assert output == {"type": "websocket.close", "code": CloseCode.FORBIDDEN}
