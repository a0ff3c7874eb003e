"""The bench's ceiling: a bare Channels consumer that only group_sends (no database, no auth).

Served by its own Daphne on the same Redis pub/sub layer as supportdesk, and speaking the
same customer frames the bench client uses (``auth`` → ``ready``; ``message`` → ``ack`` and a
``message`` frame to every socket of the session), so one client measures both side by side:

    REDIS_URL=redis://127.0.0.1:6379/1 daphne -p 8100 bench.bare_asgi:application

Nothing is stored: seq is a per-process counter per session, good enough for a ceiling.
"""

from __future__ import annotations

import itertools
import json
import os

import django
from django.conf import settings

if not settings.configured:
    settings.configure(
        INSTALLED_APPS=["channels"],
        CHANNEL_LAYERS={
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {
                    "hosts": [os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1")],
                    "prefix": os.environ.get("CHANNEL_LAYER_PREFIX", "bare"),
                },
            }
        },
    )
    django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

_seq: dict[str, itertools.count] = {}


class BareConsumer(AsyncWebsocketConsumer):
    """Join the session's group; relay each message to it as one pre-encoded frame."""

    async def connect(self):
        self.group = "bare." + self.scope["url_route"]["kwargs"]["session_id"].replace("-", "")
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        frame = json.loads(text_data)
        kind = frame.get("type")
        if kind == "auth":
            await self.send(text_data=json.dumps({"type": "ready", "last_seq": 0}))
        elif kind == "ping":
            await self.send(text_data='{"type":"pong"}')
        elif kind == "message":
            seq = next(_seq.setdefault(self.group, itertools.count(1)))
            message = {
                "seq": seq,
                "role": "customer",
                "content": frame.get("content"),
                "client_msg_id": frame.get("client_msg_id"),
            }
            text = json.dumps({"type": "message", "message": message})
            await self.channel_layer.group_send(self.group, {"type": "chat.message", "text": text})
            await self.send(
                text_data=json.dumps(
                    {"type": "ack", "client_msg_id": frame.get("client_msg_id"), "seq": seq}
                )
            )

    async def chat_message(self, event):
        await self.send(text_data=event["text"])


# What the bare server answers to any HTTP request: a page of 20 messages' worth of JSON, so
# the REST scenario compares like with like (the transport's ceiling, no database).
_PAGE = json.dumps(
    {
        "count": 20,
        "next": None,
        "previous": None,
        "results": [{"seq": k, "content": f"history {k}", "role": "customer"} for k in range(20)],
    }
).encode()


async def _http(scope, receive, send):
    """Answer /health/live (the bench's readiness probe) and any GET with a fixed page."""
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(_PAGE))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": _PAGE})


application = ProtocolTypeRouter(
    {
        "http": _http,
        "websocket": URLRouter([path("ws/sessions/<str:session_id>/", BareConsumer.as_asgi())]),
    }
)
