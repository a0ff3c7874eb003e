"""Run Daphne with supportdesk's transport guards (supportdesk/transport/).

WebSockets: 1009 for frames over 64 KiB, 4029 for floods, 1001 on shutdown
(`transport.websocket`). HTTP: 413 for a body over HTTP_MAX_BODY_BYTES before it is buffered
(`transport.http`). Usage is exactly daphne's:
`python -m supportdesk.serve -b 127.0.0.1 -p 8000 … supportdesk.asgi:application`.
"""

from __future__ import annotations

import sys

from daphne import server as daphne_server
from daphne.cli import CommandLineInterface

from supportdesk.transport.http import (
    BodyLimitHTTPFactory,
    BodyLimitWebRequest,
    max_body_bytes,
    upload_body_bytes,
)
from supportdesk.transport.websocket import (
    MAX_FRAME_BYTES,
    ClosingWebSocketFactory,
    GracefulServer,
)


def main(argv: list[str] | None = None) -> None:
    """Start Daphne with the 64 KiB frame cap unless the caller set other limits."""
    args = list(sys.argv[1:] if argv is None else argv)
    for flag in ("--websocket-max-message-size", "--websocket-max-frame-size"):
        if flag not in args:
            args[:0] = [flag, str(MAX_FRAME_BYTES)]
    daphne_server.WebSocketFactory = ClosingWebSocketFactory
    BodyLimitWebRequest.max_body_bytes = max_body_bytes()
    BodyLimitWebRequest.max_upload_bytes = upload_body_bytes()
    daphne_server.HTTPFactory = BodyLimitHTTPFactory
    cli = CommandLineInterface()
    cli.server_class = GracefulServer
    cli.run(args)


if __name__ == "__main__":
    main()
