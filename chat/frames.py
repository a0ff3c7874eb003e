"""Validation of client → server WebSocket frames; each problem names its error code."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

_CLIENT_MSG_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,128}$")

# The largest seq a frame may name: the database column is a positive 32-bit integer, and a
# bigger number overflows the channel layer's msgpack (2**64) or the database driver.
MAX_SEQ = 2**31 - 1
# Any other integer in a frame (ids) must fit a signed 64-bit column.
MAX_INT = 2**63 - 1
# No frame of the protocol nests deeper than 2; a little room, never recursion-deep.
MAX_DEPTH = 8


class FrameError(Exception):
    """A bad frame: answered with an `error` frame, the connection stays open."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


def decode(text: str) -> Any:
    """Parse a text frame into JSON, refusing deep nesting, lone surrogates and huge ints.

    Raises FrameError(invalid_json) for text that is not JSON or nests deeper than MAX_DEPTH,
    and FrameError(invalid_field) for a string that cannot be stored (a lone UTF-16
    surrogate such as "\\ud800": PostgreSQL and msgpack refuse it) or an integer beyond 64 bits.
    """
    try:
        frame = json.loads(text)
    except RecursionError:
        # The C parser recurses per level; 10,000 "[" would raise this deep in json.
        raise FrameError("invalid_json", f"the frame nests deeper than {MAX_DEPTH}") from None
    except ValueError:
        raise FrameError("invalid_json", "the frame is not valid JSON") from None
    _check_tree(frame)
    return frame


def _check_tree(root: Any) -> None:
    # Iterative, so that checking cannot itself run out of stack.
    stack = [(root, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if not value.isascii():
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    raise FrameError(
                        "invalid_field", "strings must be valid Unicode (no lone surrogates)"
                    ) from None
        elif isinstance(value, bool | float) or value is None:
            continue
        elif isinstance(value, int):
            if not -MAX_INT <= value <= MAX_INT:
                raise FrameError("invalid_field", "an integer in the frame is out of range")
        else:
            if depth > MAX_DEPTH:
                raise FrameError("invalid_json", f"the frame nests deeper than {MAX_DEPTH}")
            items = value.items() if isinstance(value, dict) else ((None, v) for v in value)
            for key, item in items:
                if key is not None:
                    stack.append((key, depth + 1))
                stack.append((item, depth + 1))


def parse_seq(frame: dict, key: str, *, default: int | None = None) -> int:
    """Return ``frame[key]`` as a seq (0 ≤ n ≤ MAX_SEQ), or ``default`` when it is absent."""
    value = frame.get(key)
    if value is None and default is not None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_SEQ:
        raise FrameError("invalid_field", f"'{key}' must be an integer from 0 to {MAX_SEQ}")
    return value


def parse_id(frame: dict, key: str) -> int:
    """Return ``frame[key]`` as a database id (1 ≤ n < 2**63)."""
    value = frame.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_INT:
        raise FrameError("invalid_field", f"'{key}' must be a positive integer id")
    return value


def _require(frame: dict, key: str, kind: type | tuple[type, ...], what: str) -> Any:
    value = frame.get(key)
    # bool is an int in Python; a JSON true is never a valid number here.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise FrameError("invalid_field", f"'{key}' must be {what}")
    return value


def frame_type(frame: Any) -> str:
    """Return the frame's type or raise FrameError."""
    if not isinstance(frame, dict):
        raise FrameError("invalid_field", "a frame must be a JSON object")
    kind = frame.get("type")
    if not isinstance(kind, str) or not kind:
        raise FrameError("invalid_field", "'type' must be a non-empty string")
    return kind


@dataclass(frozen=True)
class AuthFrame:
    token: str
    last_seq: int


def parse_auth(frame: dict) -> AuthFrame:
    token = _require(frame, "token", str, "a string")
    if not _TOKEN.match(token):
        raise FrameError("invalid_field", "'token' is malformed")
    last_seq = parse_seq(frame, "last_seq", default=0)
    return AuthFrame(token=token, last_seq=last_seq)


@dataclass(frozen=True)
class MessageFrame:
    content: str
    client_msg_id: str | None
    attachments: tuple[str, ...] = ()


# Upload ids a frame may name; the per-message limit (ATTACHMENT_MAX_PER_MESSAGE) is the
# service's, this only bounds what is parsed.
MAX_FRAME_ATTACHMENTS = 20


def _parse_attachments(frame: dict) -> tuple[str, ...]:
    value = frame.get("attachments")
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_FRAME_ATTACHMENTS:
        raise FrameError("invalid_field", "'attachments' must be a list of upload ids")
    ids = []
    for item in value:
        try:
            ids.append(str(uuid.UUID(item)) if isinstance(item, str) else None)
        except ValueError:
            ids.append(None)
        if ids[-1] is None:
            raise FrameError("invalid_field", "'attachments' must be a list of upload ids")
    return tuple(ids)


def parse_message(frame: dict) -> MessageFrame:
    content = _require(frame, "content", str, "a string")
    attachments = _parse_attachments(frame)
    if not content.strip() and not attachments:
        raise FrameError("invalid_field", "'content' must not be empty")
    client_msg_id = frame.get("client_msg_id")
    if client_msg_id is not None and (
        not isinstance(client_msg_id, str) or not _CLIENT_MSG_ID.match(client_msg_id)
    ):
        raise FrameError(
            "invalid_field", "'client_msg_id' must be 1–64 characters of A-Z a-z 0-9 . _ : -"
        )
    return MessageFrame(content=content, client_msg_id=client_msg_id, attachments=attachments)


def parse_typing(frame: dict) -> bool:
    return _require(frame, "is_typing", bool, "true or false")


def parse_read(frame: dict) -> int:
    return parse_seq(frame, "seq")


def parse_session_ref(frame: dict) -> str:
    return _require(frame, "session_id", str, "a session id string")
