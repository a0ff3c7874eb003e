"""Attachments over the sockets: a `message` frame carries upload ids, both sides see the files."""

from __future__ import annotations

import io

import pytest
from channels.db import database_sync_to_async
from PIL import Image

from chat.attachments import attachment_upload
from chat.models import Attachment, Message
from tests.factories import StaffFactory, SupportSessionFactory

from .conftest import TIMEOUT, customer_socket
from .test_agent_consumer import agent_socket, frames_until, ready_agent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@database_sync_to_async
def stored_upload(session, kind="customer", name="parcel.png") -> Attachment:
    png = io.BytesIO()
    Image.new("RGB", (64, 48), "blue").save(png, "PNG")
    png.seek(0)
    return attachment_upload(session_id=session.pk, upload=png, name=name, kind=kind)


async def test_customer_message_with_an_attachment_reaches_the_console():
    agent = await database_sync_to_async(StaffFactory)()
    session = await database_sync_to_async(SupportSessionFactory)(
        handled_by="human", status="escalated", assignee=agent
    )
    upload = await stored_upload(session)
    async with customer_socket(session.pk) as customer, agent_socket(agent) as console:
        await customer.receive_json_from(timeout=TIMEOUT)  # ready
        await ready_agent(console)
        await console.send_json_to({"type": "join", "session_id": str(session.pk)})
        await frames_until(console, lambda f: f["type"] == "joined")
        frame = {
            "type": "message",
            "content": "",
            "client_msg_id": "c-photo",
            "attachments": [str(upload.pk)],
        }
        await customer.send_json_to(frame)
        got = await frames_until(customer, lambda f: f["type"] == "ack")
        ack = got[-1]
        seen = await frames_until(
            console, lambda f: f["type"] == "message" and f["message"]["role"] == "customer"
        )
        message = seen[-1]["message"]
        assert message["id"] == ack["id"] and message["content"] == ""
        [item] = message["attachments"]
        assert item["id"] == str(upload.pk) and item["content_type"] == "image/png"
        assert item["thumbnail_url"].startswith(
            f"/api/v1/sessions/{session.pk}/attachments/{upload.pk}/thumbnail/?sig="
        )
        # A re-send of the same frame is acked the same and stores nothing more.
        await customer.send_json_to(frame)
        again = (await frames_until(customer, lambda f: f["type"] == "ack"))[-1]
        assert again["id"] == ack["id"]
    count = await database_sync_to_async(Message.objects.filter(session=session).count)()
    assert count == 1
    linked = await database_sync_to_async(Attachment.objects.get)(pk=upload.pk)
    assert str(linked.message_id) == ack["id"]


@pytest.mark.parametrize(
    "attachments, code",
    [
        ("not-a-list", "invalid_field"),
        (["nope"], "invalid_field"),
        ([1], "invalid_field"),
        (["7b0d3b5e-8b1a-4a59-9c43-2f9b8c3e1a11"], "invalid_attachment"),
    ],
)
async def test_bad_attachment_lists_get_an_error_and_store_nothing(attachments, code):
    session = await database_sync_to_async(SupportSessionFactory)(
        handled_by="human", status="escalated"
    )
    async with customer_socket(session.pk) as customer:
        await customer.receive_json_from(timeout=TIMEOUT)
        await customer.send_json_to(
            {"type": "message", "content": "", "attachments": attachments, "client_msg_id": "x"}
        )
        error = await customer.receive_json_from(timeout=TIMEOUT)
        assert error["type"] == "error" and error["code"] == code
    assert not await database_sync_to_async(Message.objects.exists)()


async def test_agent_reply_with_a_staff_upload_reaches_the_customer():
    agent = await database_sync_to_async(StaffFactory)()
    session = await database_sync_to_async(SupportSessionFactory)(
        handled_by="human", status="escalated", assignee=agent
    )
    upload = await stored_upload(session, kind="staff", name="return-label.png")
    customer_upload = await stored_upload(session)
    async with customer_socket(session.pk) as customer, agent_socket(agent) as console:
        await customer.receive_json_from(timeout=TIMEOUT)
        await ready_agent(console)
        # The customer's own upload is not the agent's to send.
        await console.send_json_to(
            {
                "type": "message",
                "session_id": str(session.pk),
                "content": "yours?",
                "attachments": [str(customer_upload.pk)],
            }
        )
        error = (await frames_until(console, lambda f: f["type"] == "error"))[-1]
        assert error["code"] == "invalid_attachment"
        # Notes carry none.
        await console.send_json_to(
            {
                "type": "note",
                "session_id": str(session.pk),
                "content": "see label",
                "attachments": [str(upload.pk)],
            }
        )
        error = (await frames_until(console, lambda f: f["type"] == "error"))[-1]
        assert error["code"] == "invalid_field"
        await console.send_json_to(
            {
                "type": "message",
                "session_id": str(session.pk),
                "content": "Here is your return label",
                "client_msg_id": "a-1",
                "attachments": [str(upload.pk)],
            }
        )
        await frames_until(console, lambda f: f["type"] == "ack")
        got = await frames_until(customer, lambda f: f["type"] == "message")
        message = got[-1]["message"]
        assert message["role"] == "agent"
        assert [a["name"] for a in message["attachments"]] == ["return-label.png"]
