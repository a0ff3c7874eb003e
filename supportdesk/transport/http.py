"""Daphne's HTTP side: a request body over HTTP_MAX_BODY_BYTES is refused (413) as it arrives.

Daphne buffers the whole body before calling Django, so Django's own limit only refused a
100 MiB upload after receiving all of it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid

from daphne.http_protocol import HTTPFactory, WebRequest

logger = logging.getLogger("supportdesk.serve")  # one logger for the whole wrapper

# Largest request body Daphne accepts (HTTP_MAX_BODY_BYTES); Django's own, smaller limit
# (DATA_UPLOAD_MAX_MEMORY_SIZE) still applies to what gets through.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


def max_body_bytes() -> int:
    """Return HTTP_MAX_BODY_BYTES from the environment (default 1 MiB)."""
    try:
        value = int(os.environ.get("HTTP_MAX_BODY_BYTES", "") or DEFAULT_MAX_BODY_BYTES)
    except ValueError:
        value = DEFAULT_MAX_BODY_BYTES
    return max(1, value)


# The one route that takes files: its body may be as large as ATTACHMENT_MAX_BYTES plus the
# multipart framing (chat/api_attachments.py refuses more than that itself, too).
UPLOAD_PATH = re.compile(rb"^/api/v1/sessions/[^/?]+/attachments/?(\?|$)")
UPLOAD_OVERHEAD = 64 * 1024
DEFAULT_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024


def upload_body_bytes() -> int:
    """Return the largest upload body: ATTACHMENT_MAX_BYTES (env, default 10 MiB) + framing."""
    try:
        value = int(os.environ.get("ATTACHMENT_MAX_BYTES", "") or DEFAULT_ATTACHMENT_MAX_BYTES)
    except ValueError:
        value = DEFAULT_ATTACHMENT_MAX_BYTES
    return max(1, value) + UPLOAD_OVERHEAD


class BodyLimitWebRequest(WebRequest):
    """Daphne's request, refusing a body over HTTP_MAX_BODY_BYTES with 413 as it arrives.

    Daphne buffers the whole body (spooled to a temporary file) before calling the
    application, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE only refused a 100 MiB upload after
    receiving all of it. Here a declared Content-Length over the limit is refused as soon as
    the headers are in, and a chunked body as soon as its running total passes the limit;
    the connection is then closed, and nothing more is stored.
    """

    max_body_bytes = DEFAULT_MAX_BODY_BYTES
    max_upload_bytes = DEFAULT_ATTACHMENT_MAX_BYTES + UPLOAD_OVERHEAD
    _refused = False
    _received = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Twisted would parse a multipart or urlencoded POST body into ``request.args`` (which
        # Daphne never reads) before Daphne sees it: a second in-memory copy of every upload,
        # and a bare, empty 400 outside our error shape for a body it can't parse. Django
        # parses the body itself.
        self._parsePOSTFormSubmission = False

    def gotLength(self, length):  # noqa: N802 (Twisted's name)
        # The request line is parsed (the channel holds it); the attachment upload route gets
        # its own, larger limit. The instance attribute shadows the class-wide one.
        channel = self.channel
        if getattr(channel, "_command", b"") == b"POST" and UPLOAD_PATH.match(
            getattr(channel, "_path", b"") or b""
        ):
            self.max_body_bytes = max(self.max_body_bytes, self.max_upload_bytes)
        if length is not None and length > self.max_body_bytes:
            self._refuse(length)
            return
        super().gotLength(length)

    def handleContentChunk(self, data):  # noqa: N802 (Twisted's name)
        if self._refused:
            return
        self._received += len(data)
        if self._received > self.max_body_bytes:
            self._refuse(None)
            return
        super().handleContentChunk(data)

    def _refuse(self, declared: int | None) -> None:
        self._refused = True
        request_id = uuid.uuid4().hex
        body = json.dumps(
            {
                "error": {
                    "code": "too_large",
                    "detail": f"Request body is larger than {self.max_body_bytes} bytes.",
                },
                "request_id": request_id,
            }
        ).encode()
        # Written raw: the request line is parsed but Twisted has not "received" the request,
        # so its response machinery isn't usable yet. Connection: close, because the rest of
        # the body would otherwise be read as the next request.
        head = (
            "HTTP/1.1 413 Content Too Large\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"X-Request-ID: {request_id}\r\n"
            "Connection: close\r\n\r\n"
        ).encode("ascii")
        logger.info(
            "Refused a request body over %d bytes (declared %s) [req:%s]",
            self.max_body_bytes,
            declared if declared is not None else "chunked",
            request_id,
        )
        # Twisted answers "Expect: 100-continue" right after gotLength: no invitation to send
        # a body we just refused.
        self.requestHeaders.removeHeader(b"Expect")
        transport = self.channel.transport
        transport.write(head + body)
        transport.loseConnection()
        # Whatever else arrives on this connection goes nowhere (not into self.content).
        self.content = _Discard()


class _Discard:
    """A write-only sink for body bytes that arrive after the 413."""

    def write(self, data: bytes) -> None:
        pass

    def seek(self, *args) -> int:
        return 0

    def read(self, *args) -> bytes:
        return b""

    def close(self) -> None:
        pass


class BodyLimitHTTPFactory(HTTPFactory):
    """Daphne's HTTP factory building BodyLimitWebRequest instead of WebRequest."""

    def buildProtocol(self, addr):  # noqa: N802 (Twisted's name)
        protocol = super().buildProtocol(addr)
        if protocol is not None:
            protocol.requestFactory = BodyLimitWebRequest
        return protocol
