"""Signatures of webhook deliveries: ``t=<unix>,v1=<hex hmac-sha256 of "t.body">``."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def secret_generate() -> str:
    """Return a new endpoint secret (shown once to the operator)."""
    return "whsec_" + secrets.token_hex(24)


def signature_header(*, secret: str, body: bytes, timestamp: int) -> str:
    """Return the X-Supportdesk-Signature value for ``body`` sent at ``timestamp``."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
