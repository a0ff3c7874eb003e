"""The ASGI handler: the whole middleware chain and view in one synchronous call, on lanes."""

from __future__ import annotations

import asyncio
import contextlib
import threading

import pytest
from asgiref.testing import ApplicationCommunicator
from channels.testing import HttpCommunicator
from django.core.signals import request_started
from django.http import HttpResponse
from django.urls import path

from supportdesk import asgi_handler
from supportdesk.asgi import django_asgi_app


def test_the_middleware_chain_is_built_synchronous():
    # Django's stock handler builds an async chain below every async-capable middleware and
    # hops to a thread and back for each of their hooks; ours is one sync callable.
    assert not asyncio.iscoroutinefunction(django_asgi_app._middleware_chain)


def test_every_view_is_synchronous():
    # The chain is built synchronous because every view is: an async view would still be
    # served (Django adapts it) but would hold a lane's thread while it awaits. Adding one is
    # a decision to revisit supportdesk/asgi_handler.py, not an accident.
    from asgiref.sync import iscoroutinefunction
    from django.urls import get_resolver

    def callbacks(resolver):
        for pattern in resolver.url_patterns:
            if hasattr(pattern, "url_patterns"):
                yield from callbacks(pattern)
            else:
                yield pattern.callback

    views = list(callbacks(get_resolver()))
    assert len(views) > 50
    async_views = [view for view in views if iscoroutinefunction(view)]
    assert async_views == []


async def _get(path: str, headers=()):
    headers = [(b"host", b"localhost"), *headers]
    communicator = HttpCommunicator(django_asgi_app, "GET", path, headers=headers)
    return await communicator.get_response(timeout=5)


async def test_every_middleware_still_runs_through_asgi():
    response = await _get("/health/live", [(b"x-request-id", b"abc-123")])
    assert response["status"] == 200
    headers = {name.lower(): value for name, value in response["headers"]}
    assert headers[b"x-request-id"] == b"abc-123"  # RequestIdMiddleware, the outermost
    assert headers[b"x-frame-options"] == b"DENY"  # XFrameOptionsMiddleware, near the view
    assert b"default-src" in headers[b"content-security-policy"]  # CSPMiddleware
    assert headers[b"x-content-type-options"] == b"nosniff"  # SecurityMiddleware


async def test_one_request_is_one_hop_to_its_thread(monkeypatch):
    hops = []
    real = asgi_handler.sync_to_async

    def counting(func, **kwargs):
        hops.append(func)
        return real(func, **kwargs)

    monkeypatch.setattr(asgi_handler, "sync_to_async", counting)
    response = await _get("/health/live")
    assert response["status"] == 200
    assert hops == [django_asgi_app.get_response]


@pytest.mark.django_db(transaction=True)
async def test_sequential_requests_reuse_one_lane_thread():
    seen: list[threading.Thread] = []  # the threads themselves: an ident can be reused

    def record(**_):
        seen.append(threading.current_thread())

    request_started.connect(record, weak=False)
    try:
        for _ in range(5):
            assert (await _get("/health/live"))["status"] == 200
    finally:
        request_started.disconnect(record)
    # Django's own handler starts (and joins) a new thread per request.
    assert len(seen) == 5 and len(set(seen)) == 1 and seen[0].name.startswith("http-lane")


def test_lanes_are_one_per_request_in_flight_and_idle_ones_are_capped():
    lanes = asgi_handler._Lanes(keep=2)
    taken = [lanes.take() for _ in range(4)]
    assert len(set(map(id, taken))) == 4  # nobody waits for a lane
    for lane in taken:
        lanes.give(lane)
    assert len(lanes._idle) == 2
    assert taken[2]._shutdown and taken[3]._shutdown  # the extra ones end their threads
    assert lanes.take() is taken[1]


async def test_concurrent_requests_each_get_their_own_lane():
    # Two requests in flight at once never share a lane (one would wait for the other).
    threads: list[threading.Thread] = []
    both_inside = threading.Barrier(2, timeout=5)

    def record(**_):
        threads.append(threading.current_thread())
        both_inside.wait()  # fails (BrokenBarrierError) if the two were serialised

    request_started.connect(record, weak=False)
    try:
        first, second = await asyncio.gather(_get("/health/live"), _get("/health/live"))
    finally:
        request_started.disconnect(record)
    assert first["status"] == second["status"] == 200
    assert len(set(threads)) == 2


def test_a_lane_still_running_work_is_not_reused():
    lanes = asgi_handler._Lanes(keep=4)
    lane = lanes.take()
    release = threading.Event()
    running = lane.submit(release.wait, 5)
    lanes.give(lane)  # its request gave up waiting; the work goes on
    try:
        assert lanes.take() is not lane
        assert lane._shutdown
    finally:
        release.set()
    assert running.result(timeout=5) is True
    done = lanes.take()
    done.submit(lambda: None).result(timeout=5)
    lanes.give(done)
    assert lanes.take() is done  # idle again: kept


# A view that blocks until told, to hold a lane the way a slow query or a long poll does.
_slow_entered = threading.Event()
_slow_release = threading.Event()


def _slow(request):
    _slow_entered.set()
    _slow_release.wait(10)
    return HttpResponse("slow")


def _fast(request):
    return HttpResponse("fast")


urlpatterns = [path("slow/", _slow), path("fast/", _fast)]


@pytest.mark.django_db(transaction=True)
async def test_a_request_abandoned_mid_view_does_not_hold_up_the_next_one(settings):
    settings.ROOT_URLCONF = __name__
    _slow_entered.clear()
    _slow_release.clear()
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "path": "/slow/",
        "query_string": b"",
        "headers": [(b"host", b"localhost")],
    }
    slow = ApplicationCommunicator(django_asgi_app, scope)
    try:
        await slow.send_input({"type": "http.request", "body": b""})
        assert await asyncio.to_thread(_slow_entered.wait, 5)
        await slow.send_input({"type": "http.disconnect"})  # the client goes away
        # Django's handler still waits for its thread; Daphne kills an application that has
        # not ended some time after the disconnect (application_close_timeout), as here.
        with contextlib.suppress(TimeoutError):
            await slow.wait(timeout=0.5)
        assert slow.future.done() and not _slow_release.is_set()
        # Sent while the abandoned view still holds its thread: served at once, not after it.
        fast = await asyncio.wait_for(_get("/fast/"), timeout=3)
        assert fast["status"] == 200 and fast["body"] == b"fast"
    finally:
        _slow_release.set()
