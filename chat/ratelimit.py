"""A per-connection sliding-window rate limiter (lives and dies with its socket)."""

from __future__ import annotations

import time
from collections import deque

from supportdesk.conf import Rate


class SlidingWindowLimiter:
    """Allow at most ``rate.count`` events in any ``rate.seconds`` window."""

    def __init__(self, rate: Rate, clock=time.monotonic):
        self.rate = rate
        self._clock = clock
        # Bounded by rate.count: old timestamps are dropped on every check.
        self._events: deque[float] = deque()

    def allow(self) -> bool:
        """Record an event and return True, or return False if it would exceed the rate."""
        now = self._clock()
        horizon = now - self.rate.seconds
        while self._events and self._events[0] <= horizon:
            self._events.popleft()
        if len(self._events) >= self.rate.count:
            return False
        self._events.append(now)
        return True
