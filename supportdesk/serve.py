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
from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol

MAX_FRAME_BYTES = 64 * 1024

# Close codes a server may send (RFC 6455 7.4.1) that autobahn's sendClose() refuses (it only
# takes 1000 and 3000-4999): 1013 "try again later" from supportdesk.degrade, among others.
_SERVER_CLOSE_CODES = frozenset({1001, 1011, 1012, 1013})


class ServerCloseCodesProtocol(WebSocketProtocol):
    """Daphne's protocol, able to send the RFC's server close codes (e.g. 1013)."""

    def serverClose(self, code=None):  # noqa: N802 (Daphne's name)
        if code in _SERVER_CLOSE_CODES:
            # The lower-level call Daphne itself uses for 1011; the handshake stays autobahn's.
            self.sendCloseFrame(code=code, isReply=False)
        else:
            super().serverClose(code=code)


class ClosingWebSocketFactory(WebSocketFactory):
    """A factory whose protocol closes with a status code instead of dropping the socket."""

    protocol = ServerCloseCodesProtocol

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
