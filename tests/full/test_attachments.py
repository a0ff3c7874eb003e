"""Attachments against the real stack: Daphne's upload limit, a photo sent over a real socket.

The upload route takes bodies up to ATTACHMENT_MAX_BYTES (10 MiB) while every other route
keeps HTTP_MAX_BODY_BYTES (1 MiB); a declared oversize upload is refused before its body is
read. A customer's photo then goes out with a `message` frame and comes back with its links,
which open for the signed link and not for another session's token.
"""

from __future__ import annotations

import io
import os
import socket
import time
import uuid

import pytest
from PIL import Image

from tests.full.conftest import Ws, http, messages_in

pytestmark = [pytest.mark.full, pytest.mark.django_db(transaction=True)]


def noisy_png() -> bytes:
    """A PNG of random pixels: about 1.9 MB, over the 1 MiB limit of other routes."""
    image = Image.frombytes("RGB", (800, 800), os.urandom(800 * 800 * 3))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def multipart(name: str, data: bytes, content_type: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    return (
        head + data + f"\r\n--{boundary}--\r\n".encode(),
        f"multipart/form-data; boundary={boundary}",
    )


def post_raw(url: str, body: bytes, content_type: str, token: str):
    import urllib.request

    request = urllib.request.Request(  # noqa: S310 (http to the local test server)
        url,
        data=body,
        method="POST",
        headers={"Content-Type": content_type, "Authorization": f"Session {token}"},
    )
    import json
    import urllib.error

    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


async def test_a_photo_over_1_mib_is_uploaded_sent_and_served_only_to_its_session(stack):
    created = http("POST", f"{stack.base_url}/api/v1/sessions/", json_body={})
    other = http("POST", f"{stack.base_url}/api/v1/sessions/", json_body={})
    session_id, token = created.body["id"], created.body["token"]
    data = noisy_png()
    assert len(data) > 1024 * 1024
    body, content_type = multipart("parcel.png", data, "image/png")
    status, uploaded = post_raw(
        f"{stack.base_url}/api/v1/sessions/{session_id}/attachments/", body, content_type, token
    )
    assert status == 201, uploaded
    assert uploaded["content_type"] == "image/png" and uploaded["thumbnail_url"]

    # Every other route keeps its 1 MiB limit.
    status, refused = post_raw(
        f"{stack.base_url}/api/v1/sessions/{session_id}/messages/", body, content_type, token
    )
    assert status == 413 and refused["error"]["code"] == "too_large"

    ws = await Ws.open(stack.ws(session_id), name="customer")
    try:
        await ws.auth(token)
        await ws.send(
            {
                "type": "message",
                "content": "The parcel arrived like this",
                "client_msg_id": "c-photo",
                "attachments": [uploaded["id"]],
            }
        )
        frames = await ws.until(
            lambda f: f.get("type") == "message" and f["message"]["role"] == "customer"
        )
        [message] = [m for m in messages_in(frames) if m["role"] == "customer"]
        [item] = message["attachments"]
        assert item["id"] == uploaded["id"]
    finally:
        await ws.close()

    anonymous = http("GET", stack.base_url + item["thumbnail_url"])
    assert anonymous.status == 200 and anonymous.headers["Content-Type"] == "image/webp"
    foreign = http(
        "GET",
        stack.base_url + item["url"],
        headers={"Authorization": f"Session {other.body['token']}"},
    )
    assert foreign.status == 404 and foreign.body["error"]["code"] == "session_not_found"


def test_a_declared_oversize_upload_is_refused_before_its_body(stack):
    created = http("POST", f"{stack.base_url}/api/v1/sessions/", json_body={})
    # A multipart body without a file reaches Django (Twisted's own form parsing, which
    # answered an empty 400 outside the error shape, is off): a JSON 400.
    status, body = post_raw(
        f"{stack.base_url}/api/v1/sessions/{created.body['id']}/attachments/",
        b"--x--\r\n",
        "multipart/form-data; boundary=x",
        created.body["token"],
    )
    assert status == 400 and body["error"]["code"] == "invalid_field", body
    port = int(stack.base_url.rsplit(":", 1)[1])
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            f"POST /api/v1/sessions/{created.body['id']}/attachments/ HTTP/1.1\r\n"
            "Host: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\n"
            f"Authorization: Session {created.body['token']}\r\n"
            "Content-Length: 104857600\r\n\r\n".encode()
        )
        sock.settimeout(5)
        raw = b""
        try:
            while b'"too_large"' not in raw:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                raw += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    assert raw.startswith(b"HTTP/1.1 413"), raw[:300]
    assert time.monotonic() - started < 3
