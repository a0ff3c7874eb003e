"""HTTP hardening against a real Daphne (issue 9: findings 1, 5, 8 and the HTTP parts of 10)."""

from __future__ import annotations

import asyncio
import http.client as httpclient
import re
import socket
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from supportdesk.conf import parse_rate
from tests.full.conftest import Ws, http, subprocess_env
from tests.servers import database_url, free_port, start_daphne, start_redis

pytestmark = pytest.mark.full


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


# --- finding 1: a spoofed X-Forwarded-For does not bypass the session throttle ---------------


def test_spoofed_forwarded_for_does_not_bypass_the_session_throttle(stack, settings):
    limit = parse_rate(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["session_create"]).count
    statuses, refused = [], None
    for n in range(45):
        response = http(
            "POST",
            f"{stack.base_url}/api/v1/sessions/",
            json_body={},
            headers={"X-Forwarded-For": f"203.0.113.{n}, 10.{n}.0.1"},
        )
        statuses.append(response.status)
        if response.status == 429 and refused is None:
            refused = response
    assert statuses == [201] * limit + [429] * (45 - limit), statuses
    assert refused.body["error"]["code"] == "throttled"
    assert refused.body["request_id"]
    assert int(refused.headers["Retry-After"]) > 0


def test_a_concurrent_burst_is_admitted_exactly_up_to_the_limit(stack, settings):
    """DRF's read-then-write throttle let a concurrent burst read the same history and pass
    together; the Redis sliding log admits exactly the limit, whatever the interleaving."""
    from supportdesk.ops import rate_limits_reset

    rate_limits_reset(names=["drf_throttles"])  # the sequential test above used this budget
    limit = parse_rate(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["session_create"]).count
    burst = limit * 3

    def create(n: int):
        return http(
            "POST",
            f"{stack.base_url}/api/v1/sessions/",
            json_body={},
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
        )

    with ThreadPoolExecutor(max_workers=24) as pool:
        responses = list(pool.map(create, range(burst)))
    statuses = sorted(response.status for response in responses)
    assert statuses == [201] * limit + [429] * (burst - limit), statuses
    refused = next(response for response in responses if response.status == 429)
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    rate_limits_reset(names=["drf_throttles"])


@pytest.mark.django_db
def test_a_requests_throttles_are_one_redis_round_trip_each_budget_its_own(settings, monkeypatch):
    """The customer-token and IP budgets of a request are checked by one script call, and
    each is still kept and refused on its own (in-process, on this Redis)."""
    from django_redis import get_redis_connection
    from redis import Redis
    from rest_framework.settings import api_settings
    from rest_framework.test import APIClient

    from sessions_app.selectors import token_hash
    from supportdesk.ops import rate_limits_reset
    from tests.factories import SupportSessionFactory

    assert "django_redis" in settings.CACHES["default"]["BACKEND"]
    get_redis_connection("default").ping()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "customer_token": "3/min",
            "anon_ip": "5/min",
        },
    }
    api_settings.reload()
    rate_limits_reset(names=["drf_throttles"])
    evals = []
    real_eval = Redis.eval
    monkeypatch.setattr(Redis, "eval", lambda *a, **kw: evals.append(a) or real_eval(*a, **kw))
    try:
        first = SupportSessionFactory(token_hash=token_hash("token-a"))
        second = SupportSessionFactory(token_hash=token_hash("token-b"))

        def read(session, token):
            client = APIClient(REMOTE_ADDR="198.51.100.77")
            client.credentials(HTTP_AUTHORIZATION=f"Session {token}")
            return client.get(f"/api/v1/sessions/{session.pk}/messages/")

        statuses = [read(first, "token-a").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]  # the token's budget; the IP has had 4
        assert len(evals) == 4  # one round trip per request for both budgets
        assert evals[0][2] == 2  # numkeys: the token's log and the IP's
        assert read(second, "token-b").status_code == 200  # another token: the IP's 5th
        refused = read(second, "token-b")  # the IP's 6th: refused by the IP budget alone
        assert refused.status_code == 429
        assert 1 <= int(refused["Retry-After"]) <= 60
    finally:
        rate_limits_reset(names=["drf_throttles"])
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK}
        api_settings.reload()


# --- finding 5: database connections stay under the pool's cap -------------------------------

POOL_CAP = 4


async def _chat(ws_url: str, sessions: list[tuple[str, str]], per_socket: int) -> int:
    """Customers chatting over WebSockets (each frame's storage runs in a run_db thread)."""

    async def one(session_id: str, token: str) -> int:
        ws = await Ws.open(f"{ws_url}/ws/sessions/{session_id}/", name=session_id[:8])
        try:
            await ws.auth(token)
            acked = 0
            for n in range(per_socket):
                await ws.send(
                    {"type": "message", "content": f"hello {n}", "client_msg_id": f"m{n}"}
                )
                await ws.until(
                    lambda f, n=n: f.get("type") == "ack" and f["client_msg_id"] == f"m{n}", 30
                )
                acked += 1
            return acked
        finally:
            await ws.close()

    return sum(await asyncio.gather(*(one(sid, token) for sid, token in sessions)))


def test_a_burst_of_reads_stays_within_the_connection_pool(stack, transactional_db, tmp_path):
    app_name = f"sdhttp-burst-{uuid.uuid4().hex[:8]}"
    env = subprocess_env()
    env.update(
        PGAPPNAME=app_name,  # libpq names this process's connections in pg_stat_activity
        DB_POOL_MIN_SIZE="1",
        DB_POOL_MAX_SIZE=str(POOL_CAP),
        DB_POOL_TIMEOUT="10",
        SESSION_CREATE_RATE="1000/min",
    )
    daphne, base = start_daphne(tmp_path, env)
    try:
        created = http("POST", f"{base}/api/v1/sessions/", json_body={"customer_name": "Pat"})
        assert created.status == 201, created.body
        session_id, token = created.body["id"], created.body["token"]
        auth = {"Authorization": f"Session {token}"}
        url = f"{base}/api/v1/sessions/{session_id}/messages/?limit=50"

        # One client alone, for the report: what a read costs without contention.
        alone = []
        for _ in range(20):
            began = time.perf_counter()
            assert http("GET", url, headers=auth).status == 200
            alone.append(time.perf_counter() - began)
        alone.sort()
        print(f"one client: read p50 {alone[10] * 1000:.1f} ms, max {alone[-1] * 1000:.1f} ms")

        peak, stop = [0], threading.Event()

        def sample() -> None:
            with psycopg.connect(database_url(), autocommit=True) as conn:
                while not stop.is_set():
                    row = conn.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                        [app_name],
                    ).fetchone()
                    peak[0] = max(peak[0], row[0])
                    time.sleep(0.01)

        sockets = []
        for _ in range(5):
            opened = http("POST", f"{base}/api/v1/sessions/", json_body={})
            sockets.append((opened.body["id"], opened.body["token"]))
        chat_result: list[int] = []

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        # Consumers borrow pool connections from their own threads (run_db) during the burst:
        # each must give its connection back, or the sockets' acks would stall at the cap.
        chatter = threading.Thread(
            target=lambda: chat_result.append(
                asyncio.run(_chat(base.replace("http", "ws", 1), sockets, 5))
            ),
            daemon=True,
        )
        chatter.start()
        start = threading.Barrier(40)

        def read(_: int) -> tuple[int, float]:
            start.wait(timeout=30)
            began = time.perf_counter()
            response = http("GET", url, headers=auth, timeout=30)
            return response.status, time.perf_counter() - began

        try:
            with ThreadPoolExecutor(max_workers=40) as pool:
                results = list(pool.map(read, range(40)))
            # A second burst reuses the pool's connections rather than opening new ones.
            start.reset()
            with ThreadPoolExecutor(max_workers=40) as pool:
                results += list(pool.map(read, range(40)))
            chatter.join(timeout=60)
        finally:
            stop.set()
            sampler.join(timeout=5)
        statuses = [status for status, _ in results]
        latencies = sorted(seconds for _, seconds in results)
        print(
            f"burst of 2x40 reads, pool cap {POOL_CAP}: peak {peak[0]} connections; "
            f"latency p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, "
            f"p95 {latencies[int(len(latencies) * 0.95)] * 1000:.0f} ms"
        )
        assert 0 < peak[0] <= POOL_CAP, f"peak {peak[0]} connections, cap {POOL_CAP}"
        # Only the documented 503 may appear (a request that waited too long for a connection).
        assert set(statuses) <= {200, 503}, statuses
        assert statuses.count(200) >= 70, statuses
        assert chat_result == [25], "every customer message stored and acked"
        assert "Traceback" not in daphne.log_text()
    finally:
        daphne.stop()


def test_a_request_that_cannot_get_a_connection_in_time_is_503_not_500(
    stack, transactional_db, tmp_path
):
    env = subprocess_env()
    env.update(
        DB_POOL_MIN_SIZE="1",
        DB_POOL_MAX_SIZE="1",
        DB_POOL_TIMEOUT="0.02",
        SESSION_CREATE_RATE="1000/min",
    )
    daphne, base = start_daphne(tmp_path, env)
    try:
        created = None
        while created is None or created.status != 201:  # the first may wait for the pool
            created = http("POST", f"{base}/api/v1/sessions/", json_body={})
            assert created.status in (201, 503), created.body
        url = f"{base}/api/v1/sessions/{created.body['id']}/messages/"
        auth = {"Authorization": f"Session {created.body['token']}"}
        start = threading.Barrier(30)

        def read(_: int):
            start.wait(timeout=30)
            return http("GET", url, headers=auth, timeout=30)

        with ThreadPoolExecutor(max_workers=30) as pool:
            responses = list(pool.map(read, range(30)))
        statuses = [response.status for response in responses]
        assert set(statuses) <= {200, 503}, statuses
        busy = [response for response in responses if response.status == 503]
        assert busy, "30 concurrent reads on one connection with a 20 ms wait: some must be 503"
        assert all(r.body["error"]["code"] == "service_unavailable" for r in busy)
        assert all(int(r.headers["Retry-After"]) > 0 for r in busy)
        log = daphne.log_text()
        assert "Traceback" not in log and " ERROR " not in log, log[-3000:]
    finally:
        daphne.stop()


def test_customers_waiting_for_replies_do_not_hold_the_pool(stack, transactional_db, tmp_path):
    """POST ?wait= polls for the AI's reply; between polls it gives its pooled connection
    back, so three customers waiting on a pool of two leave room for everyone else."""
    redis_port = free_port()
    redis = start_redis(tmp_path, redis_port)  # a broker no worker reads: replies never come
    env = subprocess_env()
    env.update(
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        DB_POOL_MIN_SIZE="1",
        DB_POOL_MAX_SIZE="2",
        DB_POOL_TIMEOUT="1",
        SESSION_CREATE_RATE="1000/min",
    )
    daphne, base = start_daphne(tmp_path, env)
    try:
        sessions = [http("POST", f"{base}/api/v1/sessions/", json_body={}).body for _ in range(4)]

        def ask(session: dict) -> tuple[int, object, float]:
            began = time.perf_counter()
            response = http(
                "POST",
                f"{base}/api/v1/sessions/{session['id']}/messages/?wait=3",
                json_body={"content": "Where is my parcel?"},
                headers={"Authorization": f"Session {session['token']}"},
                timeout=30,
            )
            return response.status, response.body, time.perf_counter() - began

        with ThreadPoolExecutor(max_workers=3) as pool:
            waiting = [pool.submit(ask, session) for session in sessions[:3]]
            time.sleep(1.2)  # all three are polling now (and would hold both connections)
            reader = sessions[3]
            began = time.perf_counter()
            read = http(
                "GET",
                f"{base}/api/v1/sessions/{reader['id']}/messages/",
                headers={"Authorization": f"Session {reader['token']}"},
                timeout=30,
            )
            read_seconds = time.perf_counter() - began
            answers = [future.result(timeout=30) for future in waiting]
        assert read.status == 200, read.body
        assert read_seconds < 1.0, f"a read behind three long polls took {read_seconds:.2f} s"
        for status, body, seconds in answers:
            assert status == 201, body  # stored; none refused for want of a connection
            assert body["reply"] is None and 2.9 < seconds < 10
        assert "Traceback" not in daphne.log_text()
    finally:
        daphne.stop()
        redis.stop()


# --- finding 10c/10d: a database outage answers 503 + Retry-After, and hides its address ------


def test_database_outage_answers_503_with_retry_after(tmp_path):
    closed_port = free_port()  # nothing listens here
    env = subprocess_env()
    env.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed_port}/sd_http_gone",
        DB_POOL_TIMEOUT="1",
    )
    daphne, base = start_daphne(tmp_path, env)
    try:
        created = http("POST", f"{base}/api/v1/sessions/", json_body={})
        assert created.status == 503, created.body
        assert created.body["error"]["code"] == "service_unavailable"
        headers = {name.lower(): value for name, value in created.headers.items()}
        assert created.body["request_id"] == headers["x-request-id"]
        assert int(created.headers["Retry-After"]) > 0

        read = http(
            "GET",
            f"{base}/api/v1/sessions/{uuid.uuid4()}/",
            headers={"Authorization": "Session whatever"},
        )
        assert read.status == 503 and read.body["error"]["code"] == "service_unavailable"

        # A page outside /api/: a plain 503 (the session cookie makes the auth middleware
        # reach for the database).
        page = http(
            "GET",
            f"{base}/console/",
            headers={"Accept": "text/html", "Cookie": f"sessionid={uuid.uuid4().hex}"},
        )
        assert page.status == 503 and int(page.headers["Retry-After"]) > 0
        assert "try again" in page.body

        ready = http("GET", f"{base}/health/ready")
        assert ready.status == 503
        assert ready.body["checks"]["database"] == {
            "status": "error",
            "detail": "error",
            "ms": ready.body["checks"]["database"]["ms"],
        }
        assert str(closed_port) not in str(ready.body) and "127.0.0.1" not in str(ready.body)
        log = daphne.log_text()
        assert "Traceback" not in log and " ERROR " not in log, log[-3000:]
    finally:
        daphne.stop()


# --- finding 10e: an oversized body is refused before it is buffered -------------------------


def _read_response(sock: socket.socket, timeout: float) -> bytes:
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data


def test_a_100_mib_content_length_is_refused_before_the_body_arrives(stack):
    pid = stack.daphne.process.pid
    before = _rss_kib(pid)
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", int(stack.base_url.rsplit(":", 1)[1]))) as sock:
        sock.sendall(
            b"POST /api/v1/sessions/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 104857600\r\n\r\n"
        )
        # Start sending the body, as a client that doesn't wait would; the answer comes anyway.
        sock.settimeout(2)
        try:
            for _ in range(16):
                sock.sendall(b"x" * 65536)
        except OSError:
            pass
        raw = _read_response(sock, 5)
    elapsed = time.monotonic() - started
    print(
        f"100 MiB Content-Length: answered in {elapsed * 1000:.0f} ms, "
        f"RSS +{_rss_kib(pid) - before} KiB"
    )
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), raw[:300]
    assert b'"code": "too_large"' in body
    assert elapsed < 3, f"413 took {elapsed:.1f} s"
    assert _rss_kib(pid) - before < 20 * 1024
    # The server keeps serving everyone else.
    assert http("GET", f"{stack.base_url}/health/live").status == 200


def test_a_chunked_body_is_cut_off_past_the_limit(stack):
    pid = stack.daphne.process.pid
    before = _rss_kib(pid)
    sent = 0
    with socket.create_connection(("127.0.0.1", int(stack.base_url.rsplit(":", 1)[1]))) as sock:
        sock.sendall(
            b"POST /api/v1/sessions/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        sock.settimeout(2)
        chunk = b"10000\r\n" + b"x" * 65536 + b"\r\n"
        try:
            while sent < 100 * 1024 * 1024:
                sock.sendall(chunk)
                sent += 65536
        except OSError:
            pass  # the server closed the connection: what we want
        raw = _read_response(sock, 5)
    assert sent < 16 * 1024 * 1024, f"the server read {sent} bytes before refusing"
    if raw:  # the 413 may be lost to the reset while we were still sending
        assert raw.startswith(b"HTTP/1.1 413"), raw[:300]
    assert _rss_kib(pid) - before < 20 * 1024
    assert http("GET", f"{stack.base_url}/health/live").status == 200


# --- finding 8: login brute-force lockout ------------------------------------------------------


class Browser:
    """A cookie-keeping HTTP client bound to one source address (127.0.0.x: another client IP)."""

    def __init__(self, base_url: str, source_ip: str):
        parsed = urllib.parse.urlsplit(base_url)
        self.host, self.port, self.source_ip = parsed.hostname, parsed.port, source_ip
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None):
        conn = httpclient.HTTPConnection(
            self.host, self.port, timeout=15, source_address=(self.source_ip, 0)
        )
        headers = {
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            # A fresh fake X-Forwarded-For on every request: it must not change who we are.
            "X-Forwarded-For": f"198.51.100.{uuid.uuid4().int % 250}",
        }
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        conn.close()
        return response.status, dict(response.getheaders()), text

    def login(self, path: str, username: str, password: str):
        status, _, page = self.request("GET", path)
        assert status == 200, page[:500]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        return self.request(
            "POST",
            path,
            {"csrfmiddlewaretoken": token, "username": username, "password": password},
        )


def test_login_lockout_per_account_and_per_ip(stack, transactional_db, settings):
    from tests.factories import StaffFactory

    limit = settings.AXES_FAILURE_LIMIT
    StaffFactory(username="alice", password="alice-right-password", is_superuser=True)
    StaffFactory(username="bob", password="bob-right-password", is_superuser=True)
    attacker = Browser(stack.base_url, "127.0.0.1")
    paths = ["/console/login/", "/admin/login/"]

    for attempt in range(limit - 1):
        status, _, _ = attacker.login(paths[attempt % 2], "alice", f"wrong-{attempt}")
        assert status == 200  # the form again, with its error
    status, headers, page = attacker.login(paths[0], "alice", "wrong-last")
    assert status == 429 and "Too many sign-in attempts" in page
    assert int(headers["Retry-After"]) > 0

    # The right password no longer works for that account, from this IP or any other …
    assert attacker.login(paths[1], "alice", "alice-right-password")[0] == 429
    elsewhere = Browser(stack.base_url, "127.0.0.2")
    assert elsewhere.login(paths[0], "alice", "alice-right-password")[0] == 429
    # … nor for another account from the locked IP, even with a spoofed X-Forwarded-For …
    assert attacker.login(paths[0], "bob", "bob-right-password")[0] == 429
    # … while another account from another IP still signs in.
    status, headers, _ = elsewhere.login(paths[1], "bob", "bob-right-password")
    assert status == 302, headers
    assert "sessionid" in elsewhere.cookies
    log = stack.daphne.log_text()
    assert "Traceback" not in log
