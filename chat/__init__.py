"""Messages, live connections, the WebSocket consumers and the customer chat page."""
