"""Django's ASGI handler, running each request's middleware chain and view in one thread hop."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers.asgi import ASGIHandler


class _Lane(ThreadPoolExecutor):
    """A single-thread executor that knows whether work is still queued or running on it."""

    def __init__(self):
        super().__init__(max_workers=1, thread_name_prefix="http-lane")
        self._count_lock = threading.Lock()
        self.in_flight = 0

    def submit(self, fn, /, *args, **kwargs):
        with self._count_lock:
            self.in_flight += 1
        try:
            future = super().submit(fn, *args, **kwargs)
        except BaseException:
            self._finished(None)
            raise
        future.add_done_callback(self._finished)
        return future

    def _finished(self, _future) -> None:
        with self._count_lock:
            self.in_flight -= 1


class _Lanes:
    """Single-thread executors reused across requests: one per request in flight.

    Django's handler gives every request a ``ThreadSensitiveContext`` of its own, and with it a
    new executor and thread that end with the request: a thread started and joined per request.
    A lane is such an executor kept for the next request; as many exist as requests are in
    flight at once (no request waits for a lane), and at most ``keep`` idle ones are kept. A
    lane still running work when its request ends (the client went away while the view ran:
    Django stops waiting, the thread cannot be stopped) is never reused: the next request
    would queue behind it. Used only from the event loop's thread, so it needs no lock.
    """

    def __init__(self, keep: int):
        self.keep = keep
        self._idle: list[_Lane] = []

    def take(self) -> _Lane:
        if self._idle:
            return self._idle.pop()
        return _Lane()

    def give(self, lane: _Lane) -> None:
        if lane.in_flight == 0 and len(self._idle) < self.keep:
            self._idle.append(lane)
        else:
            lane.shutdown(wait=False)  # its thread ends once its work is done


class SyncChainASGIHandler(ASGIHandler):
    """Serve each HTTP request's middleware chain and view as one synchronous call.

    Every view here is synchronous. Django's stock handler builds an async chain wherever a
    middleware is async-capable (sessions, CSRF, auth, messages, axes…), and each of those
    then hands its ``process_request``/``process_response``/``process_view`` to a thread and
    back, between a sync middleware above (ours, WhiteNoise, CSP) and the sync view below:
    about 15 thread hand-offs per request: 1.3 ms of the 9.5 ms of CPU a message read cost
    (docs/performance.md, "REST reads"). Built synchronous, the chain runs in one hand-off, as
    under WSGI. Each request still has a thread of its own while it runs (a lane, reused
    afterwards), so a slow request never holds up another. An async view would still work
    (Django adapts it) but would hold its lane's thread like a sync one.
    """

    # Idle lanes kept per process: enough for a burst of reads, few enough to be cheap.
    idle_lanes = 32

    def __init__(self):
        super().__init__()
        self._lanes = _Lanes(self.idle_lanes)

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        lane = self._lanes.take()
        try:
            async with ThreadSensitiveContext(executor=lane):
                await self.handle(scope, receive, send)
        finally:
            self._lanes.give(lane)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
