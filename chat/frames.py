"""Validation of client → server WebSocket frames; each problem names its error code."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_CLIENT_MSG_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


class FrameError(Exception):
    """A bad frame: answered with an `error` frame, the connection stays open."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


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
    last_seq = frame.get("last_seq", 0)
    if last_seq is None:
        last_seq = 0
    if not isinstance(last_seq, int) or isinstance(last_seq, bool) or last_seq < 0:
        raise FrameError("invalid_field", "'last_seq' must be a non-negative integer")
    return AuthFrame(token=token, last_seq=last_seq)


@dataclass(frozen=True)
class MessageFrame:
    content: str
    client_msg_id: str | None


def parse_message(frame: dict) -> MessageFrame:
    content = _require(frame, "content", str, "a string")
    if not content.strip():
        raise FrameError("invalid_field", "'content' must not be empty")
    client_msg_id = frame.get("client_msg_id")
    if client_msg_id is not None and (
        not isinstance(client_msg_id, str) or not _CLIENT_MSG_ID.match(client_msg_id)
    ):
        raise FrameError(
            "invalid_field", "'client_msg_id' must be 1–64 characters of A-Z a-z 0-9 . _ : -"
        )
    return MessageFrame(content=content, client_msg_id=client_msg_id)


def parse_typing(frame: dict) -> bool:
    return _require(frame, "is_typing", bool, "true or false")


def parse_read(frame: dict) -> int:
    seq = _require(frame, "seq", int, "a non-negative integer")
    if seq < 0:
        raise FrameError("invalid_field", "'seq' must be a non-negative integer")
    return seq


def parse_session_ref(frame: dict) -> str:
    return _require(frame, "session_id", str, "a session id string")
