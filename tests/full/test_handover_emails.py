"""Full stack: an agent's reply to an away customer is emailed by the REAL Celery worker to a
real local SMTP server, and the emailed link gives the conversation back on a new socket."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.full.conftest import Ws, http, in_thread, messages_in

pytestmark = pytest.mark.full


def _customer_sockets(session_id: str) -> int:
    from chat.models import Connection

    return Connection.objects.filter(session_id=session_id, kind="customer").count()


@pytest.mark.django_db(transaction=True)
async def test_the_worker_emails_an_away_customer_and_the_link_resumes_the_session(stack):
    from apikeys.services import api_key_create

    key = (await in_thread(api_key_create, name="crm", scopes=["write"])).key
    created = await in_thread(
        http,
        "POST",
        f"{stack.base_url}/api/v1/sessions/",
        json_body={"customer_name": "Casey", "customer_email": "casey@example.com"},
    )
    assert created.status == 201, created.body
    session_id, token = created.body["id"], created.body["token"]

    customer = await Ws.open(stack.ws(session_id), name="customer")
    try:
        await customer.auth(token)
        await customer.send(
            {"type": "message", "content": "I want to talk to a human", "client_msg_id": "h-1"}
        )
        # The worker's hand-over, then who will answer and roughly when.
        await customer.until(
            lambda f: (
                f.get("type") == "message"
                and "support team will answer you here" in f["message"]["content"]
            ),
            timeout=30,
        )
    finally:
        await customer.close()
    deadline = time.monotonic() + 10
    while await in_thread(_customer_sockets, session_id) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert await in_thread(_customer_sockets, session_id) == 0

    # An integration (API key) answers while the customer is away.
    reply = await in_thread(
        http,
        "POST",
        f"{stack.base_url}/api/v1/sessions/{session_id}/messages/",
        json_body={"content": "Your parcel left our warehouse today."},
        headers={"Authorization": f"Api-Key {key}"},
    )
    assert reply.status == 201, reply.body

    (mail,) = await in_thread(stack.smtp.inbox.wait_for, 1, 30.0)
    assert mail.rcpt_tos == ["casey@example.com"]
    text = mail.part("text/plain")
    assert "Your parcel left our warehouse today." in text
    link = text.split("Continue the conversation: ", 1)[1].split()[0]
    assert link.startswith(f"{stack.base_url}/#resume=")

    resumed = await in_thread(
        http,
        "POST",
        f"{stack.base_url}/api/v1/resume/",
        json_body={"link": link.split("#resume=", 1)[1]},
    )
    assert resumed.status == 200, resumed.body
    assert resumed.body["id"] == session_id and resumed.body["token"] != token

    back = await Ws.open(stack.ws(session_id), name="back")
    try:
        await back.auth(resumed.body["token"])
        await back.until(
            lambda f: (
                f.get("type") == "message"
                and f["message"]["content"] == "Your parcel left our warehouse today."
            )
        )
        assert [m["seq"] for m in messages_in(back.frames)] == sorted(
            m["seq"] for m in messages_in(back.frames)
        )
    finally:
        await back.close()
    # The old token no longer opens the session.
    old = await in_thread(
        http,
        "GET",
        f"{stack.base_url}/api/v1/sessions/{session_id}/",
        headers={"Authorization": f"Session {token}"},
    )
    assert old.status == 404
