"""supportdesk's own settings, read lazily with defaults so a missing one is never an error."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings

# Every optional setting the apps read, with its default. Reading through app_setting() means
# a settings module that omits one (an old deployment, a test that deletes it) still works.
DEFAULTS: dict[str, Any] = {
    "AGENT_PROVIDER": "extractive",
    "OPENAI_BASE_URL": "",
    "OPENAI_API_KEY": "",
    "OPENAI_MODEL": "gpt-4o-mini",
    "OPENAI_TIMEOUT": 20.0,
    "AGENT_CONFIDENCE_THRESHOLD": None,  # None: the retrieval engine's tuned default
    "AGENT_ENCODER": "minilm",  # "none": TF-IDF only (smaller, less accurate)
    # Answer messages clearly not in English with a polite note instead of searching.
    "AGENT_LANGUAGE_CHECK": True,
    "CHAT_MAX_MESSAGE_CHARS": 4000,
    "CHAT_MAX_FRAME_BYTES": 64 * 1024,
    "CHAT_RATE_LIMIT": "20/10s",
    "CHAT_RATE_LIMIT_STRIKES": 5,
    "CHAT_AUTH_TIMEOUT": 10.0,
    "CHAT_STALE_AFTER": 90,
    "CHAT_HEARTBEAT_WRITE_EVERY": 15,
    "CHAT_AGENT_RECHECK_SECONDS": 5.0,
    "WS_MAX_QUEUED_FRAMES": 32,
    "WS_TRANSPORT_RATE": "100/10s",
    "WS_SHUTDOWN_GRACE": 3.0,
    "API_WAIT_MAX_SECONDS": 30,
    # At most this many ?wait= long polls per process at once; beyond it a message is stored
    # and returned without waiting (reply: null), so waiting customers can't pile up threads.
    "API_WAIT_MAX_CONCURRENT": 100,
    # Proxies (IPs/CIDRs) whose X-Forwarded-For is believed; empty: the TCP peer is the client.
    "TRUSTED_PROXIES": (),
    "METRICS_TOKEN": "",  # empty: no bearer token accepted at /metrics
    "METRICS_ALLOWED_IPS": (),  # peer addresses/networks that may scrape /metrics unauthenticated
    "AGENT_SWEEP_INTERVAL": 15.0,
    "AGENT_UNANSWERED_AFTER": 180.0,
    "AGENT_SWEEP_MAX_REQUEUES": 2,
    # Conversation states (issue 13): a customer writing within this many seconds of the
    # close reopens the conversation (0: never); the snooze sweep's period in seconds.
    "SESSION_REOPEN_WITHIN": 7 * 24 * 3600.0,
    "SNOOZE_SWEEP_INTERVAL": 30.0,
    # Webhooks (webhooks/): retry delays in seconds, ± jitter, timeout, auto-disable, SSRF guard.
    "WEBHOOK_RETRY_SCHEDULE": (10, 60, 300, 900, 1800, 3600),
    "WEBHOOK_RETRY_JITTER": 0.1,
    "WEBHOOK_TIMEOUT": 10.0,
    "WEBHOOK_DISABLE_AFTER": 5,
    "WEBHOOK_LOG_RETENTION_DAYS": 30,
    "WEBHOOK_ALLOW_PRIVATE_TARGETS": False,
    # Teams (teams/): the beat's queue drain, and how many waiting sessions one drain looks at.
    "TEAMS_QUEUE_DRAIN_INTERVAL": 30.0,
    "TEAMS_QUEUE_DRAIN_LIMIT": 50,
    # Attachments (chat/attachments.py): size, count per message, signed-link lifetime, how long
    # an upload no message carries is kept, and the largest image (a decompression bomb guard).
    "ATTACHMENT_MAX_BYTES": 10 * 1024 * 1024,
    "ATTACHMENT_MAX_PER_MESSAGE": 5,
    "ATTACHMENT_URL_MAX_AGE": 24 * 3600,
    "ATTACHMENT_UNATTACHED_HOURS": 24.0,
    "ATTACHMENT_MAX_PIXELS": 40_000_000,
    # After a hand-over (notifications/): expected reply time, office hours, emails.
    "SUPPORT_TIMEZONE": "UTC",
    "SUPPORT_OFFICE_HOURS": "",  # empty: always open
    "SUPPORT_PUBLIC_URL": "http://127.0.0.1:8000",  # where emailed links point
    "REPLY_TIME_SAMPLE": 50,  # recent human first responses the estimate takes the median of
    "REPLY_TIME_CACHE_SECONDS": 300,
    "REPLY_EMAIL_DEBOUNCE_MINUTES": 15,  # at most one "new reply" email per session per window
    "RESUME_LINK_MAX_AGE_HOURS": 72,
    "TRANSCRIPT_EMAIL_DEBOUNCE_MINUTES": 10,
    "AGENT_ANSWER_WHILE_WAITING": False,
    # Knowledge gaps (agents/gaps.py): how many recent non-answers are grouped, and how alike
    # (cosine of sentence vectors) two questions must be to share a group.
    "KNOWLEDGE_GAPS_WINDOW": 300,
    "KNOWLEDGE_GAPS_SIMILARITY": 0.55,
}


def app_setting(name: str) -> Any:
    """Return a supportdesk setting, falling back to its documented default."""
    if name not in DEFAULTS:
        raise KeyError(f"{name} is not a supportdesk setting")
    value = getattr(settings, name, None)
    return DEFAULTS[name] if value is None or value == "" else value


@dataclass(frozen=True)
class Rate:
    """A number of events allowed per window of seconds."""

    count: int
    seconds: float


_RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(s|sec|m|min|h|hour)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600}


def parse_rate(text: str) -> Rate:
    """Parse '20/10s', '30/min' or '5/2m' into a Rate; raise ValueError on anything else."""
    match = _RATE_RE.match(text or "")
    if not match:
        raise ValueError(f"invalid rate {text!r}: expected e.g. '20/10s' or '30/min'")
    count, multiplier, unit = match.groups()
    seconds = (int(multiplier) if multiplier else 1) * _UNIT_SECONDS[(unit or "s").lower()]
    if int(count) <= 0 or seconds <= 0:
        raise ValueError(f"invalid rate {text!r}: count and window must be positive")
    return Rate(count=int(count), seconds=float(seconds))


def redis_cache(url: str) -> dict:
    """Return the Django cache configuration for Redis at ``url``.

    A cache outage degrades to "no cache" (throttles fail open, logged as a warning) instead
    of failing every request; /health/ready still reports the cache as failing.
    """
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": "supportdesk",
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
        },
    }
