"""WebSocket abuse over the real Daphne: floods, crafted frames, revoked staff, shutdown 1001."""

from __future__ import annotations

import asyncio
import contextlib
import http.cookiejar
import json
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.factories import DEFAULT_TOKEN, StaffFactory, SupportSessionFactory
from tests.full.conftest import Ws, in_thread, subprocess_env
from tests.servers import ROOT, start_daphne

pytestmark = pytest.mark.full

DEEP_JSON = "[" * 10_000 + "]" * 10_000


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


@pytest.fixture
def own_daphne(transactional_db, tmp_path):
    """Start Daphnes of this test's own (extra env per call); stop them at teardown."""
    started = []

    def start(**env: str):
        process, base_url = start_daphne(tmp_path, subprocess_env() | env)
        started.append(process)
        return process, base_url

    yield start
    for process in started:
        process.stop()


def rss_mb(pid: int) -> float:
    """Return a process's resident memory in MB, from /proc/<pid>/status."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def connection_count() -> int:
    from chat.models import Connection

    return Connection.objects.count()


async def poll(check, timeout: float) -> bool:
    """Return True as soon as the (blocking) ``check`` holds, False after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await in_thread(check):
            return True
        await asyncio.sleep(0.1)
    return False


def ws_url(base_url: str, path: str) -> str:
    return base_url.replace("http://", "ws://", 1) + path


class Browser:
    """A cookie-keeping HTTP client that signs in to the console like a browser would."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.jar if c.name == name)

    def post_form(self, path: str, fields: dict[str, str]) -> int:
        data = urllib.parse.urlencode(
            {**fields, "csrfmiddlewaretoken": self.cookie("csrftoken")}
        ).encode()
        request = urllib.request.Request(  # noqa: S310 (loopback http)
            self.base_url + path,
            data=data,
            headers={"Referer": self.base_url + path, "Origin": self.base_url},
        )
        with self.opener.open(request, timeout=10) as response:
            return response.status

    def login(self, username: str, password: str) -> None:
        with self.opener.open(self.base_url + "/console/login/", timeout=10) as response:
            page = response.read().decode()
        assert re.search(r'name="csrfmiddlewaretoken"', page)
        self.post_form("/console/login/", {"username": username, "password": password})
        assert self.cookie("sessionid")

    def logout(self) -> None:
        self.post_form("/console/logout/", {})

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


async def open_console(base_url: str, browser: Browser, origin: str | None = None) -> Ws:
    from websockets.asyncio.client import connect

    conn = await connect(
        ws_url(base_url, "/ws/agent/"),
        open_timeout=10,
        close_timeout=3,
        ping_interval=None,
        origin=origin or base_url,
        additional_headers={"Cookie": browser.cookie_header()},
    )
    return Ws(conn, "console")


# --------------------------------------------------------------------------------------------
# Finding 2: every frame counts; a flood is closed at the transport; the soak
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "junk", ["not json {", b"\x00binary", "[]", '{"x":1}', '{"type":""}', '{"type":"nope"}']
)
async def test_malformed_frames_count_and_close_4029(stack, junk):
    """Default limit (20/10s, 5 strikes): junk answered one by one still ends in 4029.

    Each frame waits for its answer, so this is the consumer's limiter at work; an unpaced
    burst is closed by the transport guard before that (the next tests).
    """
    session = await in_thread(SupportSessionFactory)
    ws = await Ws.open(stack.ws(session.id), origin=stack.base_url)
    codes = []
    try:
        await ws.auth(DEFAULT_TOKEN)  # frame 1 of the 20
        with pytest.raises(ConnectionClosed):
            for _ in range(30):
                await ws.conn.send(junk)
                codes.append((await ws.recv(5))["code"])
        assert ws.close_code == 4029
    finally:
        await ws.close()
    assert len(codes) == 19 + 4, codes  # 19 answers within the budget, 4 strikes, then close
    assert codes[-4:] == ["rate_limited"] * 4
    assert "rate_limited" not in codes[:19]
    assert await poll(lambda: connection_count() == 0, 5)


@pytest.mark.django_db(transaction=True)
async def test_unpaced_burst_of_junk_is_closed_4029_at_once(stack):
    session = await in_thread(SupportSessionFactory)
    ws = await Ws.open(stack.ws(session.id), origin=stack.base_url)
    try:
        with contextlib.suppress(ConnectionClosed):
            for _ in range(5000):
                await ws.conn.send("not json {")
        assert await ws.wait_closed(timeout=10) == 4029
    finally:
        await ws.close()
    assert len(ws.frames) <= 25
    assert await poll(lambda: connection_count() == 0, 5)


@pytest.mark.django_db(transaction=True)
async def test_transport_guard_closes_a_flood_the_consumer_would_let_through(own_daphne):
    """Even with the consumer's limit out of the way, Daphne's guard bounds a flood."""
    daphne, base_url = own_daphne(CHAT_RATE_LIMIT="100000/10s", WS_TRANSPORT_RATE="40/10s")
    session = await in_thread(SupportSessionFactory)
    ws = await Ws.open(ws_url(base_url, f"/ws/sessions/{session.id}/"))
    try:
        await ws.auth(DEFAULT_TOKEN)
        with contextlib.suppress(ConnectionClosed):
            for _ in range(2000):
                await ws.conn.send('{"type":"ping"}')
        assert await ws.wait_closed(timeout=10) == 4029
    finally:
        await ws.close()
    assert sum(f["type"] == "pong" for f in ws.frames) < 40
    assert await poll(lambda: connection_count() == 0, 5)
    assert "Closing WebSocket" in daphne.log_text() and " ERROR " not in daphne.log_text()


@pytest.mark.django_db(transaction=True)
async def test_soak_three_flooding_processes_beside_a_well_behaved_client(own_daphne):
    """3 processes flood junk and valid frames unpaced for 12 s; a normal client is served."""
    # 10 frames/s for a client sending a message every 200 ms; the guards keep their defaults.
    daphne, base_url = own_daphne(CHAT_RATE_LIMIT="100/10s")
    good = await in_thread(SupportSessionFactory, handled_by="human", status="escalated")
    target = await in_thread(SupportSessionFactory, handled_by="human", status="escalated")
    flood_seconds = 12.0

    client = await Ws.open(ws_url(base_url, f"/ws/sessions/{good.id}/"), origin=base_url)
    await client.auth(DEFAULT_TOKEN)
    await client.send({"type": "message", "content": "warm-up", "client_msg_id": "warm"})
    await client.until(lambda f: f["type"] == "ack")
    baseline_rss = rss_mb(daphne.process.pid)

    flood_url = ws_url(base_url, f"/ws/sessions/{target.id}/")
    flooders = [
        subprocess.Popen(  # noqa: S603 (our own module)
            [sys.executable, "-m", "tests.full.ws_flooder", flood_url, DEFAULT_TOKEN]
            + [str(flood_seconds), mode],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for mode in ("junk", "pings", "junk")
    ]
    loop = asyncio.get_running_loop()
    started = loop.time()
    latencies: list[float] = []
    handshakes: list[float] = []
    peak_rss = baseline_rss
    stop = asyncio.Event()

    async def sample_rss() -> None:
        nonlocal peak_rss
        while not stop.is_set():
            peak_rss = max(peak_rss, rss_mb(daphne.process.pid))
            await asyncio.sleep(0.25)

    async def new_handshakes() -> None:
        while not stop.is_set():
            began = loop.time()
            fresh = await Ws.open(ws_url(base_url, f"/ws/sessions/{good.id}/"), timeout=5)
            try:
                await fresh.auth(DEFAULT_TOKEN, last_seq=10_000, timeout=5)
            finally:
                await fresh.close()
            handshakes.append(loop.time() - began)
            await asyncio.sleep(1.0)

    sampler = asyncio.create_task(sample_rss())
    prober = asyncio.create_task(new_handshakes())
    try:
        await asyncio.sleep(1.0)  # let the flood build up first
        n = 0
        while loop.time() - started < flood_seconds - 0.5:
            n += 1
            sent = loop.time()
            await client.send({"type": "message", "content": f"m{n}", "client_msg_id": f"m{n}"})
            await client.until(
                lambda f, n=n: f["type"] == "ack" and f["client_msg_id"] == f"m{n}", timeout=10
            )
            latencies.append(loop.time() - sent)
            await asyncio.sleep(max(0.0, 0.2 - (loop.time() - sent)))
    finally:
        stop.set()
        await asyncio.gather(sampler, prober, return_exceptions=False)
        await client.close()
    results = []
    for flooder in flooders:
        out, err = await asyncio.to_thread(flooder.communicate, timeout=30)
        assert flooder.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))

    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    report = {
        "acks": len(latencies),
        "ack_p50_s": round(latencies[len(latencies) // 2], 3),
        "ack_p95_s": round(p95, 3),
        "ack_max_s": round(latencies[-1], 3),
        "handshakes_during_flood": len(handshakes),
        "handshake_max_s": round(max(handshakes), 3),
        "rss_baseline_mb": round(baseline_rss, 1),
        "rss_peak_mb": round(peak_rss, 1),
        "flooders": results,
    }
    print("SOAK", json.dumps(report))
    assert daphne.alive()
    assert len(latencies) >= 30, report
    assert p95 < 1.0, report
    assert len(handshakes) >= 8, report
    # Each flooder was closed and came back many times (the guard, not a crash).
    assert all(r.get("handshakes", 0) >= 5 for r in results), report
    assert sum(r.get("close_4029", 0) for r in results) >= 10, report
    log = daphne.log_text()
    assert log.count("with 4029") + log.count("rate-limit strikes") >= 15, report
    assert peak_rss < baseline_rss + 100, report  # before the guard: +750 MB
    assert await poll(lambda: connection_count() == 0, 10)
    assert " ERROR " not in daphne.log_text(), daphne.log_text()[-3000:]


# --------------------------------------------------------------------------------------------
# Finding 7: crafted frames get an error frame over the real transport
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_crafted_frames_get_errors_not_1011(stack):
    session = await in_thread(SupportSessionFactory, handled_by="human", status="escalated")
    log_start = stack.daphne.log_size()
    ws = await Ws.open(stack.ws(session.id), origin=stack.base_url)
    try:
        await ws.auth(DEFAULT_TOKEN)
        for raw, code in [
            ('{"type":"read","seq":' + str(2**90) + "}", "invalid_field"),
            (DEEP_JSON, "invalid_json"),
            ('{"type":"message","content":"\\ud800","client_msg_id":"s"}', "invalid_field"),
        ]:
            await ws.send(raw)
            error = await ws.recv(5)
            assert error["type"] == "error" and error["code"] == code, error
        await ws.send({"type": "message", "content": "fine", "client_msg_id": "fine"})
        await ws.until(lambda f: f["type"] == "ack")
    finally:
        await ws.close()
    assert ws.close_code is None  # the server never closed it
    assert await poll(lambda: connection_count() == 0, 5)
    log = stack.daphne.log_text(log_start)
    assert " ERROR " not in log and "Traceback" not in log, log[-3000:]


# --------------------------------------------------------------------------------------------
# Finding 9: a console socket loses its powers on logout and deactivation
# --------------------------------------------------------------------------------------------


STAFF_PASSWORD = "correct horse 9"  # noqa: S105 (a test account's)


def make_staff():
    return StaffFactory(password=STAFF_PASSWORD)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", ["logout", "deactivate"])
async def test_console_socket_closes_4003_on_logout_or_deactivation(stack, how):
    from chat.services import note_add

    agent = await in_thread(make_staff)
    session = await in_thread(SupportSessionFactory)
    await in_thread(note_add, session_id=session.id, user=agent, content="internal: VIP")
    browser = Browser(stack.base_url)
    await in_thread(browser.login, agent.username, STAFF_PASSWORD)

    console = await open_console(stack.base_url, browser)
    try:
        await console.until(lambda f: f["type"] == "ready")
        await console.send({"type": "join", "session_id": str(session.id)})
        joined = await console.until(lambda f: f["type"] == "joined")
        assert any(f["type"] == "message" for f in joined)  # the transcript, note included
        started = time.monotonic()
        if how == "logout":
            await in_thread(browser.logout)
        else:

            def deactivate():
                agent.is_active = False
                agent.save()

            await in_thread(deactivate)
        assert await console.wait_closed(timeout=5) == 4003
        assert time.monotonic() - started < 2.0
    finally:
        await console.close()
    assert not [f for f in console.frames if f.get("type") == "message" and "VIP" in str(f)][1:]

    # A new console socket with the same cookie gets no transcript either.
    again = await open_console(stack.base_url, browser)
    try:
        with contextlib.suppress(ConnectionClosed):
            await again.send({"type": "join", "session_id": str(session.id)})
        assert await again.wait_closed(timeout=5) == 4003
    finally:
        await again.close()
    assert not any(f.get("type") == "message" for f in again.frames)


@pytest.mark.django_db(transaction=True)
async def test_console_socket_from_another_port_is_refused(stack):
    """The origin finding: a page on another port of the same host gets no staff socket."""
    agent = await in_thread(make_staff)
    browser = Browser(stack.base_url)
    await in_thread(browser.login, agent.username, STAFF_PASSWORD)
    with pytest.raises(InvalidStatus) as refused:
        ws = await open_console(stack.base_url, browser, origin="http://127.0.0.1:9999")
        await ws.close()
    assert refused.value.response.status_code == 403
    same = await open_console(stack.base_url, browser)
    try:
        assert (await same.until(lambda f: f["type"] == "ready"))[-1]["type"] == "ready"
    finally:
        await same.close()


# --------------------------------------------------------------------------------------------
# Finding 10: Daphne's shutdown says "going away"
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_sigterm_closes_open_sockets_with_1001_and_cleans_up(own_daphne):
    daphne, base_url = own_daphne()
    session = await in_thread(SupportSessionFactory)
    url = ws_url(base_url, f"/ws/sessions/{session.id}/")
    authed = [await Ws.open(url, name=f"ws{i}") for i in range(3)]
    for ws in authed:
        await ws.auth(DEFAULT_TOKEN)
    waiting = await Ws.open(url, name="unauthenticated")
    assert await poll(lambda: connection_count() == 3, 5)

    daphne.process.send_signal(signal.SIGTERM)
    codes = await asyncio.gather(*(ws.wait_closed(timeout=10) for ws in [*authed, waiting]))
    for ws in [*authed, waiting]:
        await ws.close()
    assert codes == [1001, 1001, 1001, 1001]
    assert await asyncio.to_thread(daphne.process.wait, 15) == 0
    # The consumers ran their clean-up before the process ended: no row for the sweep.
    assert await in_thread(connection_count) == 0
