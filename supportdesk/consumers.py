"""Fallback consumer for WebSocket paths that match no route."""

from channels.generic.websocket import AsyncWebsocketConsumer


class UnknownRouteConsumer(AsyncWebsocketConsumer):
    """Refuse the handshake: there is nothing at this path."""

    async def connect(self):
        await self.close()
