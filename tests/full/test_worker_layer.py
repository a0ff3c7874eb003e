"""Sync broadcasts outside an event loop (Celery workers) reuse one layer loop; workers warm up."""

from __future__ import annotations

import time

import pytest
import redis
from django.conf import settings

from supportdesk import realtime

pytestmark = pytest.mark.full


def _redis_clients() -> int:
    return len(redis.Redis.from_url(settings.REDIS_URL).client_list())


def test_sync_broadcasts_from_a_plain_thread_share_one_loop_and_arrive(live_stack):
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    loop = realtime.layer_loop()
    channel = loop.run(layer.new_channel())
    loop.run(layer.group_add("worker-layer-test", channel))
    before = _redis_clients()
    for k in range(20):
        realtime.group_send("worker-layer-test", {"type": "probe", "k": k})
    received = [loop.run(layer.receive(channel))["k"] for _ in range(20)]
    assert received == list(range(20))
    assert realtime.layer_loop() is loop
    # async_to_sync from a plain thread opened connections on a fresh loop per call.
    assert _redis_clients() <= before + 1
    loop.run(layer.group_discard("worker-layer-test", channel))


def test_the_worker_loads_the_encoder_before_its_first_task(live_stack):
    deadline = time.monotonic() + 30
    log = ""
    while time.monotonic() < deadline:
        log = live_stack.worker.log_text()
        if "Sentence encoder" in log and "ready." in log:
            break
        time.sleep(0.2)
    assert "Sentence encoder" in log, log[-3000:]
    loaded = log.index("Sentence encoder")
    first_task = log.find("Task agents.tasks.agent_reply")
    assert first_task == -1 or loaded < first_task
