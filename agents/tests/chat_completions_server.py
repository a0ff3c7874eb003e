"""A scriptable local OpenAI-compatible `POST /v1/chat/completions` endpoint for tests.

It speaks real HTTP on 127.0.0.1 (the `openai` client is exercised unmocked, nothing leaves
the machine): non-streamed JSON and streamed `text/event-stream` in OpenAI's chunk format,
plus the failures a provider must survive — HTTP errors, slowness, malformed streams and
connections cut mid-answer. Every request is recorded for assertions.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    """What the endpoint does with one request."""

    text: str = "Refunds reach your card within 5 business days [1]."
    chunks: list[str] | None = None  # how the text is split; default: word by word
    status: int = 200  # anything else: an OpenAI-style JSON error body
    delay: float = 0.0  # seconds before the response starts
    chunk_delay: float = 0.0  # seconds between streamed content chunks
    malformed_after: int | None = None  # after this many content chunks, a non-JSON event
    drop_after: int | None = None  # after this many content chunks, cut the connection
    finish_reason: str | None = "stop"  # None: end the stream without one (and without [DONE])
    # Held until the test sets it (or the server stops): lets a test act while a reply is
    # being composed, deterministically, without guessing a delay.
    gate: threading.Event | None = None

    def pieces(self) -> list[str]:
        if self.chunks is not None:
            return list(self.chunks)
        words = self.text.split(" ")
        return [word if i == 0 else f" {word}" for i, word in enumerate(words)]


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]  # lower-cased names
    body: dict = field(default_factory=dict)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 so a streamed body can be chunked: cutting it short is then a real protocol
    # error for the client, as with a proxy dropping the connection.
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass  # keep test output clean

    def do_POST(self):  # noqa: N802 - the stdlib's naming
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        self.server.owner.requests.append(
            Recorded(
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
        )
        reply = self.server.owner.next_reply()
        self.server.owner.arrived.set()
        if reply.gate is not None:
            while not reply.gate.wait(0.05) and not self.server.owner.stopping.is_set():
                pass
        if reply.delay:
            # Wakes early when the server stops, so no thread outlives its test by long.
            self.server.owner.stopping.wait(reply.delay)
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
        elif reply.status != 200:
            self._error(reply.status)
        elif body.get("stream"):
            self._stream(reply, model=str(body.get("model", "")))
        else:
            self._json(200, _completion(reply.text, model=str(body.get("model", ""))))

    def _json(self, status: int, payload: dict, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int) -> None:
        kind = "rate_limit_exceeded" if status == 429 else "server_error"
        # retry-after-ms keeps the client's retries (which honour it) fast in tests.
        self._json(
            status,
            {"error": {"message": f"scripted {status}", "type": kind, "code": kind}},
            headers={"retry-after-ms": "5"},
        )

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _event(self, payload: str) -> None:
        self._chunk(f"data: {payload}\n\n".encode())

    def _stream(self, reply: Reply, *, model: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._event(json.dumps(_chunk(model, {"role": "assistant", "content": ""})))
        for sent, piece in enumerate(reply.pieces()):
            if reply.drop_after is not None and sent == reply.drop_after:
                self._cut()
                return
            if reply.malformed_after is not None and sent == reply.malformed_after:
                self._event('{"id": "chatcmpl-test", "choices": [{"delta": ')
            if reply.chunk_delay and sent:
                self.server.owner.stopping.wait(reply.chunk_delay)
            self._event(json.dumps(_chunk(model, {"content": piece})))
        if reply.drop_after is not None:
            self._cut()
            return
        if reply.finish_reason is not None:
            self._event(json.dumps(_chunk(model, {}, finish_reason=reply.finish_reason)))
            self._event("[DONE]")
        self._chunk(b"")  # the zero-length chunk: the body is complete

    def _cut(self) -> None:
        # No terminating chunk, then close: the client sees an incomplete chunked body.
        self.close_connection = True
        self.wfile.flush()


def _chunk(model: str, delta: dict, finish_reason: str | None = None) -> dict:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }


def _completion(text: str, *, model: str) -> dict:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: ChatCompletionsServer

    def handle_error(self, request, client_address):
        # A client that timed out and hung up makes the late write fail: expected here.
        pass


class ChatCompletionsServer:
    """A fake endpoint on a free local port; `url` is the base URL to give the client.

    `script(*replies)` sets what the next requests get, in order; the last one repeats.
    """

    def __init__(self):
        self.requests: list[Recorded] = []
        self.stopping = threading.Event()
        self.arrived = threading.Event()  # set when a request has been received
        self._replies: list[Reply] = [Reply()]
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._replies = list(replies) or [Reply()]

    def next_reply(self) -> Reply:
        with self._lock:
            return self._replies.pop(0) if len(self._replies) > 1 else self._replies[0]

    def start(self) -> ChatCompletionsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2)

    def __enter__(self) -> ChatCompletionsServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
