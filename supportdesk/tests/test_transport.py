"""The transport guard's token bucket (the guard itself runs in tests/full/test_ws_abuse.py)."""

from __future__ import annotations

from supportdesk.conf import parse_rate
from supportdesk.transport.websocket import TokenBucket


def test_token_bucket_allows_a_burst_then_refills_at_the_rate():
    now = [0.0]
    bucket = TokenBucket(parse_rate("10/5s"), clock=lambda: now[0])
    assert all(bucket.take() for _ in range(10))
    assert not bucket.take()
    now[0] += 0.5  # 2 tokens a second
    assert bucket.take() and not bucket.take()
    now[0] += 60  # never more than the burst
    assert sum(bucket.take() for _ in range(20)) == 10
