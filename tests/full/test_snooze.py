"""Snooze through the real beat schedule: a snoozed conversation reappears in the console's inbox.

Real Daphne and worker (tests/full/conftest.py), plus a real ``celery beat`` started here with
SNOOZE_SWEEP_INTERVAL=1: nothing in this test wakes the session but beat's periodic task
running in the worker.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from websockets.asyncio.client import connect

from apikeys.services import api_key_create
from tests.factories import StaffFactory, SupportSessionFactory
from tests.full.conftest import Ws, http, in_thread, subprocess_env
from tests.servers import kill_group, start_celery

pytestmark = pytest.mark.full

SNOOZE_SECONDS = 4


@pytest.fixture
def beat(stack, tmp_path):
    """A real `celery beat` on the stack's broker, sweeping snoozes every second."""
    env = {**subprocess_env(), "SNOOZE_SWEEP_INTERVAL": "1"}
    process = start_celery(
        "beat",
        ["beat", "--loglevel=INFO", "-s", str(tmp_path / f"beat-{uuid.uuid4().hex[:6]}")],
        tmp_path,
        env,
        ready_marker="beat: Starting",
    )
    try:
        yield process
    finally:
        kill_group(process)


def staff_cookie() -> str:
    client = Client()
    client.force_login(StaffFactory())
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}"


@pytest.mark.django_db(transaction=True)
async def test_a_snoozed_conversation_comes_back_through_beat(stack, beat):
    session = await in_thread(SupportSessionFactory, status="escalated", customer_name="Sleepy")
    key = (await in_thread(api_key_create, name="snooze test", scopes=["read", "write"])).key
    cookie = await in_thread(staff_cookie)
    conn = await connect(
        f"{stack.ws_url}/ws/agent/",
        open_timeout=10,
        close_timeout=3,
        ping_interval=None,
        origin=stack.base_url,
        additional_headers={"Cookie": cookie},
    )
    console = Ws(conn, "console")
    try:
        await console.until(lambda f: f["type"] == "inbox")
        until = timezone.now() + timedelta(seconds=SNOOZE_SECONDS)
        snoozed = await in_thread(
            http,
            "POST",
            f"{stack.base_url}/api/v1/sessions/{session.pk}/snooze/",
            json_body={"until": until.isoformat()},
            headers={"Authorization": f"Api-Key {key}"},
        )
        assert snoozed.status == 200, snoozed.body
        snoozed_at = time.monotonic()
        # The console hears of the snooze, and the inbox no longer lists it.
        await console.until(
            lambda f: (
                f["type"] == "inbox_update"
                and f["session"]["id"] == str(session.pk)
                and f["session"]["snoozed_until"] is not None
            )
        )
        await console.send({"type": "inbox", "filter": "all", "search": ""})
        inbox = (await console.until(lambda f: f["type"] == "inbox"))[-1]
        assert str(session.pk) not in [row["id"] for row in inbox["sessions"]]

        # Beat's sweep (every second) wakes it once its time has come, not before.
        woken = (
            await console.until(
                lambda f: (
                    f["type"] == "inbox_update"
                    and f["session"]["id"] == str(session.pk)
                    and f["session"]["snoozed_until"] is None
                ),
                timeout=SNOOZE_SECONDS + 15,
            )
        )[-1]
        assert time.monotonic() - snoozed_at >= SNOOZE_SECONDS - 1.0
        assert woken["session"]["status"] == "escalated"  # the status never changed
        await console.send({"type": "inbox", "filter": "all", "search": ""})
        inbox = (await console.until(lambda f: f["type"] == "inbox"))[-1]
        assert str(session.pk) in [row["id"] for row in inbox["sessions"]]
    finally:
        await console.close()

    assert "sessions_app.tasks.snoozed_wake" in beat.log_text()  # beat sent it …
    assert "sessions_app.tasks.snoozed_wake" in stack.worker.log_text()  # … the worker ran it

    def woken_note() -> list[str]:
        from chat.models import Message

        return list(
            Message.objects.filter(session_id=session.pk, internal=True)
            .order_by("seq")
            .values_list("metadata__event", flat=True)
        )

    assert await in_thread(woken_note) == ["snoozed", "woken"]
