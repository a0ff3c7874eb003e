"""WebSocket URL routes."""

from django.urls import re_path

from . import consumers

websocket_urlpatterns = [
    # Any id is routed: the consumer answers a malformed one with close code 4001.
    re_path(r"^ws/sessions/(?P<session_id>[^/]*)/?$", consumers.CustomerConsumer.as_asgi()),
    re_path(r"^ws/agent/?$", consumers.AgentConsumer.as_asgi()),
]
