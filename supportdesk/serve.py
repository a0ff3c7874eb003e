"""Run Daphne with a WebSocket factory that answers an oversized frame with close 1009.

Daphne's `--websocket-max-message-size` makes autobahn refuse a frame before buffering it,
but autobahn's default `failByDrop` then drops the TCP connection (the client sees 1006).
Turning it off makes autobahn send the proper 1009 close. Usage is exactly daphne's:
`python -m supportdesk.serve -b 127.0.0.1 -p 8000 … supportdesk.asgi:application`.
"""

from __future__ import annotations

import sys

from daphne import server as daphne_server
from daphne.cli import CommandLineInterface
from daphne.ws_protocol import WebSocketFactory

MAX_FRAME_BYTES = 64 * 1024


class ClosingWebSocketFactory(WebSocketFactory):
    """A factory whose protocol closes with a status code instead of dropping the socket."""

    def setProtocolOptions(self, **options):  # noqa: N802 (autobahn's name)
        options["failByDrop"] = False
        super().setProtocolOptions(**options)


def main(argv: list[str] | None = None) -> None:
    """Start Daphne with the 64 KiB frame cap unless the caller set other limits."""
    args = list(sys.argv[1:] if argv is None else argv)
    for flag in ("--websocket-max-message-size", "--websocket-max-frame-size"):
        if flag not in args:
            args[:0] = [flag, str(MAX_FRAME_BYTES)]
    daphne_server.WebSocketFactory = ClosingWebSocketFactory
    CommandLineInterface().run(args)


if __name__ == "__main__":
    main()
