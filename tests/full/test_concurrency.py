"""Seq allocation under real concurrency on PostgreSQL, and the stale sweep in full mode."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta

import pytest

from sessions_app.models import HandledBy, SessionStatus
from tests.factories import DEFAULT_TOKEN, SupportSessionFactory
from tests.full.conftest import ROOT, Ws, in_thread

pytestmark = pytest.mark.full


def _human_session():
    # A person handles it: customer messages do not enqueue agent replies.
    return SupportSessionFactory(status=SessionStatus.ESCALATED, handled_by=HandledBy.HUMAN)


def _seqs(session_id) -> list[int]:
    from chat.models import Message

    return list(
        Message.objects.filter(session_id=session_id).order_by("seq").values_list("seq", flat=True)
    )


@pytest.mark.django_db(transaction=True)
def test_threads_allocate_contiguous_seqs():
    from django.db import connections

    from chat.services import message_create
    from sessions_app.models import SupportSession

    threads_n, per_thread = 8, 25
    session = _human_session()
    barrier = threading.Barrier(threads_n)
    results: list[tuple[int, str]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(t: int) -> None:
        try:
            barrier.wait(timeout=30)
            for k in range(per_thread):
                result = message_create(
                    session_id=session.id,
                    role="customer",
                    content=f"t{t} m{k}",
                    client_msg_id=f"t{t}-{k}",
                )
                assert result.created
                with lock:
                    results.append((result.message.seq, result.message.client_msg_id))
        except BaseException as error:  # reported in the main thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a writer thread hung"
    assert not errors, errors

    total = threads_n * per_thread
    returned = sorted(seq for seq, _ in results)
    assert returned == list(range(1, total + 1))
    assert _seqs(session.id) == list(range(1, total + 1))
    assert len({cid for _, cid in results}) == total
    assert SupportSession.objects.get(pk=session.id).last_seq == total


_REST_POSTER = textwrap.dedent(
    """
    import json, sys, time, urllib.request, urllib.error
    base, session_id, token, prefix, count, start_at = sys.argv[1:7]
    time.sleep(max(0.0, float(start_at) - time.time()))
    seqs = []
    for k in range(int(count)):
        body = json.dumps({"content": f"{prefix} {k}", "client_msg_id": f"{prefix}-{k}"})
        request = urllib.request.Request(
            f"{base}/api/v1/sessions/{session_id}/messages/", data=body.encode(), method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Session {token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, payload = response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            print(f"HTTP {error.code}: {error.read()[:300]!r}", file=sys.stderr)
            sys.exit(2)
        if status != 201:
            print(f"status {status}: {payload}", file=sys.stderr)
            sys.exit(3)
        seqs.append(payload["seq"])
    print(json.dumps(seqs))
    """
)


def _start_rest_poster(stack, session, prefix: str, count: int, start_at: float):
    """Start a process that posts ``count`` messages over REST from ``start_at`` on."""
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            _REST_POSTER,
            stack.base_url,
            str(session.id),
            DEFAULT_TOKEN,
            prefix,
            str(count),
            str(start_at),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _poster_seqs(procs) -> list[int]:
    """Wait for the poster processes and return every seq they were given."""
    import json

    seqs: list[int] = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=90)
            assert proc.returncode == 0, f"poster failed ({proc.returncode}): {err}"
            seqs.extend(json.loads(out))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    return seqs


@pytest.mark.django_db(transaction=True)
def test_processes_posting_over_rest_get_contiguous_seqs(stack):
    from sessions_app.models import SupportSession

    processes_n, per_process = 3, 30
    session = _human_session()
    start_at = time.time() + 1.5
    procs = [
        _start_rest_poster(stack, session, f"p{p}", per_process, start_at)
        for p in range(processes_n)
    ]
    returned = sorted(_poster_seqs(procs))
    total = processes_n * per_process
    assert returned == list(range(1, total + 1))
    assert _seqs(session.id) == list(range(1, total + 1))
    assert SupportSession.objects.get(pk=session.id).last_seq == total
    from chat.models import Message

    ids = set(Message.objects.filter(session=session).values_list("client_msg_id", flat=True))
    assert ids == {f"p{p}-{k}" for p in range(processes_n) for k in range(per_process)}


@pytest.mark.django_db(transaction=True)
async def test_stale_cleanup_task_closes_socket_with_4000(stack):
    from django.utils import timezone

    from chat.models import Connection
    from chat.tasks import connections_cleanup_stale

    session = await in_thread(SupportSessionFactory)
    stale = await Ws.open(stack.ws(session.id), name="stale")
    fresh = await Ws.open(stack.ws(session.id), name="fresh")
    try:
        await stale.auth(DEFAULT_TOKEN)
        await fresh.auth(DEFAULT_TOKEN)

        def age_one() -> tuple[str, str]:
            rows = list(Connection.objects.filter(session=session).order_by("connected_at"))
            assert len(rows) == 2, rows
            # The first row registered belongs to the first socket authenticated: "stale".
            old, young = rows
            Connection.objects.filter(pk=old.pk).update(
                last_seen_at=timezone.now() - timedelta(minutes=10)
            )
            return old.channel_name, young.channel_name

        stale_channel, fresh_channel = await in_thread(age_one)

        await in_thread(connections_cleanup_stale.delay)  # through Redis to the real worker

        assert await stale.wait_closed(timeout=20) == 4000

        def rows_now() -> set[str]:
            return set(
                Connection.objects.filter(session=session).values_list("channel_name", flat=True)
            )

        assert await in_thread(rows_now) == {fresh_channel}
        # The fresh socket is untouched: still open and answering.
        await fresh.send({"type": "ping"})
        assert (await fresh.until(lambda f: f["type"] == "pong", timeout=5))[-1]["type"] == "pong"
        assert fresh.close_code is None
        assert stale_channel != fresh_channel
    finally:
        await stale.close()
        await fresh.close()


@pytest.mark.django_db(transaction=True)
def test_rest_posters_and_direct_writers_in_other_processes_interleave(stack):
    """Daphne serialises its sync views on one thread; writers in THIS process contend with it
    for the session's row lock at the same time, so the lock is exercised across processes."""

    from django.db import connections

    from chat.services import message_create
    from sessions_app.models import SupportSession

    rest_n, per_rest, threads_n, per_thread = 2, 25, 3, 20
    session = _human_session()
    start_at = time.time() + 1.5
    procs = [_start_rest_poster(stack, session, f"r{p}", per_rest, start_at) for p in range(rest_n)]
    direct: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def writer(t: int) -> None:
        try:
            time.sleep(max(0.0, start_at - time.time()))
            for k in range(per_thread):
                result = message_create(
                    session_id=session.id,
                    role="customer",
                    content=f"d{t} {k}",
                    client_msg_id=f"d{t}-{k}",
                )
                with lock:
                    direct.append(result.message.seq)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(threads_n)]
    for thread in threads:
        thread.start()
    try:
        posted = _poster_seqs(procs)
    finally:
        for thread in threads:
            thread.join(timeout=90)
    assert not errors, errors
    total = rest_n * per_rest + threads_n * per_thread
    returned = sorted(posted + direct)
    assert returned == list(range(1, total + 1))
    assert _seqs(session.id) == list(range(1, total + 1))
    assert SupportSession.objects.get(pk=session.id).last_seq == total
