"""Broadcast helpers: a failing group send is logged and does not stop the others."""

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from supportdesk import realtime


def test_group_send_many_delivers_the_rest_when_one_send_fails(monkeypatch, caplog):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("good", channel)
    real_group_send = layer.group_send

    async def flaky_group_send(group, event):
        if group == "bad":
            raise ConnectionError("layer down")
        await real_group_send(group, event)

    monkeypatch.setattr(layer, "group_send", flaky_group_send)
    caplog.set_level(logging.WARNING)
    realtime.group_send_many([("bad", {"type": "x.one"}), ("good", {"type": "x.two"})])

    async def receive():
        return await asyncio.wait_for(layer.receive(channel), timeout=1)

    assert async_to_sync(receive)() == {"type": "x.two"}
    assert any("x.one" in r.getMessage() and "bad" in r.getMessage() for r in caplog.records)
