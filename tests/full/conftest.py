"""Full-mode fixtures: a real Daphne and a real Celery worker on the pytest-django test database.

The stack is started once per test session, against THE SAME PostgreSQL test database that
pytest-django created (its name is read from settings after ``django_db_setup``) and the same
Redis database, so rows committed by a transactional test are seen by both processes and the
events they publish reach the sockets this process holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.servers import (
    ManagedProcess,
    daphne_argv,
    free_port,
    raise_nofile_limit,
    server_env,
    start_process,
)

ROOT = Path(__file__).resolve().parents[2]
_VENV_BIN = ROOT / ".venv" / "bin"
BIN = _VENV_BIN if (_VENV_BIN / "daphne").exists() else Path(sys.executable).parent
AGENT_DEMO = ROOT / "agents" / "demo"

STARTUP_TIMEOUT = 45.0
WEBHOOK_TEST_SCHEDULE = (0.25, 0.5, 1, 2, 4)


# --------------------------------------------------------------------------------------------
# Small synchronous helpers
# --------------------------------------------------------------------------------------------


@dataclass
class HttpResponse:
    status: int
    body: Any
    headers: dict[str, str]


def http(
    method: str,
    url: str,
    *,
    json_body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 15.0,
) -> HttpResponse:
    """One HTTP request with urllib (no extra dependency); never raises on 4xx/5xx."""
    data = None
    all_headers = {"Accept": "application/json", **(headers or {})}
    if json_body is not None:
        data = json.dumps(json_body).encode()
        all_headers["Content-Type"] = "application/json"
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an HTTP URL: {url!r}")
    request = urllib.request.Request(url, data=data, headers=all_headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, raw, resp_headers = response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        status, raw, resp_headers = error.code, error.read(), dict(error.headers)
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = raw.decode("utf-8", "replace")
    return HttpResponse(status, body, resp_headers)


def subprocess_env() -> dict[str, str]:
    from django.conf import settings

    return server_env(
        REDIS_URL=settings.REDIS_URL,
        CELERY_TASK_ALWAYS_EAGER="0",
        # Webhooks (tests/full/test_webhooks.py): the receivers are local, and a short retry
        # schedule (6 attempts in ~8 s) with auto-disable after 2 failed deliveries.
        WEBHOOK_ALLOW_PRIVATE_TARGETS="1",
        WEBHOOK_RETRY_SCHEDULE=",".join(map(str, WEBHOOK_TEST_SCHEDULE)),
        WEBHOOK_DISABLE_AFTER="2",
    )


@dataclass
class LiveStack:
    base_url: str
    ws_url: str
    daphne: ManagedProcess
    worker: ManagedProcess
    worker_name: str
    processes: list[ManagedProcess] = field(default_factory=list)
    # A real local SMTP server (aiosmtpd) both processes send email to (tests/smtp.py).
    smtp: Any = None

    def ws(self, session_id: Any) -> str:
        return f"{self.ws_url}/ws/sessions/{session_id}/"

    def assert_alive(self) -> None:
        for proc in self.processes:
            assert proc.alive(), f"{proc.name} died:\n{proc.log_text()[-4000:]}"


def _wait_for(
    what: str,
    check: Callable[[], bool],
    procs: list[ManagedProcess],
    timeout: float = STARTUP_TIMEOUT,
) -> None:
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        for proc in procs:
            if not proc.alive():
                pytest.fail(
                    f"{proc.name} exited during startup (code {proc.process.returncode}):"
                    f"\n{proc.log_text()[-6000:]}"
                )
        try:
            if check():
                return
        except Exception as error:  # not up yet
            last_error = error
        time.sleep(0.3)
    logs = "\n".join(f"--- {p.name} ---\n{p.log_text()[-4000:]}" for p in procs)
    pytest.fail(f"{what} not ready after {timeout} s (last error: {last_error!r})\n{logs}")


# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"_full_rep_{report.when}", report)


@pytest.fixture(scope="session")
def live_stack(django_db_setup, django_db_blocker, tmp_path_factory, request):
    """A real Daphne and a real Celery worker on the test database; yields their URLs."""
    import redis
    from django.conf import settings

    assert not settings.EMBEDDED, "the full suite needs REDIS_URL"
    redis.Redis.from_url(settings.REDIS_URL).flushdb()

    log_dir = tmp_path_factory.mktemp("live-stack")
    env = subprocess_env()
    # One metrics directory for Daphne and the worker, as on a production machine: Daphne's
    # /metrics then adds up the worker's counters too (prometheus_client multiprocess mode).
    env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path_factory.mktemp("prometheus"))
    port = free_port()
    worker_name = f"fulltest-{uuid.uuid4().hex[:8]}@%h"
    from tests.smtp import smtp_start

    smtp = smtp_start()
    env.update(smtp.env(), SUPPORT_PUBLIC_URL=f"http://127.0.0.1:{port}")

    daphne = start_process("daphne", daphne_argv(port), log_dir, env, preexec_fn=raise_nofile_limit)
    worker = start_process(
        "celery-worker",
        [
            str(BIN / "celery"),
            "-A",
            "supportdesk",
            "worker",
            "--pool=threads",
            "--concurrency=4",
            "--loglevel=INFO",
            "-Q",
            "celery",
            "-n",
            worker_name,
            "--without-gossip",
            "--without-mingle",
        ],
        log_dir,
        env,
    )
    stack = LiveStack(
        base_url=f"http://127.0.0.1:{port}",
        ws_url=f"ws://127.0.0.1:{port}",
        daphne=daphne,
        worker=worker,
        worker_name=worker_name,
        processes=[daphne, worker],
        smtp=smtp,
    )
    try:
        _wait_for(
            "Daphne /health/live",
            lambda: http("GET", f"{stack.base_url}/health/live", timeout=2).status == 200,
            stack.processes,
        )
        from supportdesk.celery import app

        expected = worker_name.split("@")[0]

        def worker_answers() -> bool:
            replies = app.control.ping(timeout=1.0) or []
            return any(expected in name for reply in replies for name in reply)

        _wait_for("Celery worker ping", worker_answers, stack.processes)
        others = [
            name
            for reply in (app.control.ping(timeout=1.0) or [])
            for name in reply
            if expected not in name
        ]
        if others:
            print(f"WARNING: other Celery workers share this broker and may take tasks: {others}")
        yield stack
    finally:
        for proc in stack.processes:
            proc.stop()
        smtp.controller.stop()
        if request.session.testsfailed:
            capture = request.config.pluginmanager.getplugin("capturemanager")
            cm = capture.global_and_fixture_disabled() if capture else contextlib.nullcontext()
            with cm:
                for proc in stack.processes:
                    print(f"\n===== {proc.name} log ({proc.log_path}) — last 8000 chars =====")
                    print(proc.log_text()[-8000:])


@pytest.fixture
def stack(live_stack, request):
    """Per-test view of the stack: checks both processes are alive, prints their logs on failure."""
    live_stack.assert_alive()
    offsets = {proc.name: proc.log_size() for proc in live_stack.processes}
    yield live_stack
    failed = any(
        getattr(request.node, f"_full_rep_{when}", None) is not None
        and getattr(request.node, f"_full_rep_{when}").failed
        for when in ("setup", "call")
    )
    if failed:
        for proc in live_stack.processes:
            print(f"\n===== {proc.name} log during this test =====")
            print(proc.log_text(offsets[proc.name])[-12000:])


@pytest.fixture
def knowledge_base(transactional_db):
    """The demo knowledge base, committed (the worker loads the index snapshot from the DB)."""
    from agents.kb_io import kb_import

    result = kb_import(
        articles_file=AGENT_DEMO / "articles.jsonl",
        examples_files=[AGENT_DEMO / "examples.csv"],
    )
    assert result.articles_created > 0
    return result


# --------------------------------------------------------------------------------------------
# Async helpers
# --------------------------------------------------------------------------------------------


async def in_thread(fn: Callable[..., Any], *args, **kwargs) -> Any:
    """Run blocking (ORM, HTTP) code from an async test; closes that thread's DB connections."""

    def call():
        from django.db import connections

        try:
            return fn(*args, **kwargs)
        finally:
            connections.close_all()

    return await asyncio.to_thread(call)


class WsTimeout(AssertionError):
    pass


class Ws:
    """A customer socket: connect, auth, and collect frames until a predicate, with timeouts."""

    def __init__(self, conn: ClientConnection, name: str = "ws"):
        self.conn = conn
        self.name = name
        self.frames: list[dict] = []  # everything received, in order
        self.close_code: int | None = None

    @classmethod
    async def open(
        cls, url: str, *, name: str = "ws", origin: str | None = None, timeout: float = 10.0
    ) -> Ws:
        kwargs: dict[str, Any] = {}
        if origin is not None:
            kwargs["origin"] = origin
        conn = await connect(
            url,
            open_timeout=timeout,
            close_timeout=3,
            max_size=2**20,
            ping_interval=None,
            **kwargs,
        )
        return cls(conn, name)

    async def send(self, frame: dict | str) -> None:
        await self.conn.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def recv(self, timeout: float) -> dict:
        """Next frame; raises WsTimeout, or ConnectionClosed (with close_code recorded)."""
        try:
            raw = await asyncio.wait_for(self.conn.recv(), timeout)
        except TimeoutError:
            raise WsTimeout(f"{self.name}: no frame within {timeout} s") from None
        except ConnectionClosed as closed:
            self.close_code = closed.rcvd.code if closed.rcvd is not None else 1006
            raise
        frame = json.loads(raw)
        self.frames.append(frame)
        return frame

    async def until(self, predicate: Callable[[dict], bool], timeout: float = 15.0) -> list[dict]:
        """Collect frames until one satisfies ``predicate``; return those frames (incl. it)."""
        deadline = asyncio.get_running_loop().time() + timeout
        got: list[dict] = []
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise WsTimeout(f"{self.name}: condition not met in {timeout} s; got {got!r}")
            try:
                frame = await self.recv(remaining)
            except WsTimeout:
                raise WsTimeout(
                    f"{self.name}: condition not met in {timeout} s; got {got!r}"
                ) from None
            got.append(frame)
            if predicate(frame):
                return got

    async def quiet(self, seconds: float) -> list[dict]:
        """Frames received during ``seconds`` (expecting usually none)."""
        got = []
        deadline = asyncio.get_running_loop().time() + seconds
        while (remaining := deadline - asyncio.get_running_loop().time()) > 0:
            try:
                got.append(await self.recv(remaining))
            except WsTimeout:
                break
        return got

    async def auth(self, token: str, last_seq: int | None = None, timeout: float = 10.0) -> dict:
        frame: dict[str, Any] = {"type": "auth", "token": token}
        if last_seq is not None:
            frame["last_seq"] = last_seq
        await self.send(frame)
        first = await self.recv(timeout)
        assert first.get("type") == "ready", f"{self.name}: expected ready, got {first!r}"
        return first

    async def wait_closed(self, timeout: float = 15.0) -> int:
        """Read until the server closes; return the close code (frames are kept)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise WsTimeout(
                    f"{self.name}: not closed within {timeout} s; frames {self.frames[-5:]!r}"
                )
            try:
                await self.recv(remaining)
            except ConnectionClosed:
                assert self.close_code is not None
                return self.close_code
            except WsTimeout:
                continue

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.conn.close(), 5)


def messages_in(frames: list[dict]) -> list[dict]:
    return [f["message"] for f in frames if f.get("type") == "message"]
