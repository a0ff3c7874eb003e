"""The one HTTP client of webhook deliveries: pinned to the checked address, bounded, no redirects.

httpx2 (already installed as the openai client's transport) gives us per-phase timeouts,
TLS with a separate SNI/verification host (so we can connect to the IP the SSRF guard
checked while the certificate is still verified against the URL's host), streaming reads
(a huge answer is never buffered) and no proxy from the environment (``trust_env=False``:
a proxy would resolve the name again, behind the guard's back).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx2

from supportdesk.conf import app_setting

from .guard import Target

# What we keep of an answer: enough to debug, bounded in the database and in memory.
EXCERPT_CHARS = 1024
READ_LIMIT_BYTES = 4096

_client: httpx2.Client | None = None


def _http() -> httpx2.Client:
    global _client
    if _client is None:
        # No keep-alive: a pooled connection is keyed by address, and two hosts behind one
        # address would share a TLS session made for the first host's name.
        _client = httpx2.Client(
            follow_redirects=False,
            trust_env=False,
            limits=httpx2.Limits(max_keepalive_connections=0),
        )
    return _client


@dataclass(frozen=True)
class SendResult:
    """What one POST gave: a status code, or an error (timeout, refused …), and its timing."""

    status_code: int | None
    duration_ms: int
    response_excerpt: str = ""
    error: str = ""


def _pinned_url(target: Target, address: str) -> str:
    host = f"[{address}]" if ":" in address else address
    path = target.url.path or "/"
    query = f"?{target.url.query}" if target.url.query else ""
    return f"{target.url.scheme}://{host}:{target.port}{path}{query}"


def _host_header(target: Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.url.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


def post(*, target: Target, body: bytes, headers: dict[str, str]) -> SendResult:
    """POST ``body`` to the checked ``target``, connecting only to its checked addresses.

    The addresses are tried in order (as a resolver's answer would be) until one accepts
    the connection; the URL's host is never resolved again.
    """
    result = SendResult(None, 0, error="no address to connect to")
    for address in target.addresses:
        result = _post_to(target, address, body, headers)
        if not result.error.startswith("ConnectError"):
            break
    return result


def _post_to(target: Target, address: str, body: bytes, headers: dict[str, str]) -> SendResult:
    timeout = float(app_setting("WEBHOOK_TIMEOUT"))
    started = time.monotonic()
    deadline = started + 2 * timeout  # the whole answer, not just each read

    def elapsed_ms() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        with _http().stream(
            "POST",
            _pinned_url(target, address),
            content=body,
            headers={**headers, "Host": _host_header(target)},
            timeout=httpx2.Timeout(timeout),
            extensions={"sni_hostname": target.host},
        ) as response:
            received = b""
            for chunk in response.iter_raw():
                received += chunk
                if len(received) >= READ_LIMIT_BYTES or time.monotonic() > deadline:
                    break
            excerpt = received[:READ_LIMIT_BYTES].decode("utf-8", "replace")[:EXCERPT_CHARS]
            return SendResult(response.status_code, elapsed_ms(), excerpt)
    except httpx2.TimeoutException as error:
        return SendResult(None, elapsed_ms(), error=f"timeout: {type(error).__name__}")
    except httpx2.HTTPError as error:
        return SendResult(None, elapsed_ms(), error=f"{type(error).__name__}: {error}"[:300])
