"""All WebSocket routes of the project, gathered from the apps."""

from django.urls import re_path

from chat.routing import websocket_urlpatterns as chat_routes
from supportdesk.consumers import UnknownRouteConsumer

websocket_urlpatterns = [
    *chat_routes,
    # Anything else is refused cleanly instead of raising "No route found" in the router.
    re_path(r"", UnknownRouteConsumer.as_asgi()),
]
