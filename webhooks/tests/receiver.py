"""A real local HTTP receiver for webhook tests: records every request, answers as scripted."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    """One request the receiver got."""

    at: float  # time.time() when its body was read
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A threaded http.server on 127.0.0.1; ``statuses`` are answered in order, then ``default``."""

    def __init__(self, statuses: list[int] | None = None, default: int = 200, location: str = ""):
        self.requests: list[Received] = []
        self.location = location  # sent as Location (to test that redirects are not followed)
        self.statuses = list(statuses or [])
        self.default = default
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.requests.append(
                        Received(time.time(), self.path, dict(self.headers.items()), body)
                    )
                    status = receiver.statuses.pop(0) if receiver.statuses else receiver.default
                payload = f'{{"received": true, "status": {status}}}'.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float = 15.0):
        """Poll until ``predicate(requests)`` is true; fail with what arrived if it never is."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                snapshot = list(self.requests)
            if predicate(snapshot):
                return snapshot
            time.sleep(0.02)
        raise AssertionError(f"receiver: condition not met in {timeout} s; got {snapshot!r}")
