#!/usr/bin/env python
"""WebSocket fan-out benchmark: one Daphne process, N customer sockets over S sessions.

What one run does (everything on 127.0.0.1, every loop bounded in count and time):

1. drops and re-creates the PostgreSQL database ``supportdesk_bench`` and migrates it
   (``--reuse-db`` keeps it and only migrates);
2. flushes Redis db 14 and starts ONE Daphne process with CHANNEL_LAYER=pubsub|core,
   CELERY_TASK_ALWAYS_EAGER=0 and no Celery worker (nothing is ever enqueued: see 4);
3. creates S sessions through ``POST /api/v1/sessions/`` and opens N customer sockets
   (socket i belongs to session i % S); each sends ``auth`` and waits for ``ready``;
4. marks the sessions handled_by='human', status='escalated' with psql, so a customer message
   never schedules an agent reply (no agent task, no Celery);
5. sends M ``message`` frames at R msg/s, round-robin over the sockets (client_msg_id
   ``b<k>``); the server broadcasts each one to every socket of its session, the sender
   included, and the bench records send→receipt latency for every delivery;
6. waits until every expected delivery arrived or ``--deadline`` seconds after the last send,
   then prints a JSON summary (and appends it to ``--json-out``), closes the sockets, stops
   Daphne (always, in ``finally``) and flushes Redis db 14 again.

Expected deliveries = for every message sent, the number of sockets of its session that were
open and ready when it was sent. ``errors`` counts problems seen in the Daphne log (e.g.
redis ``MaxConnectionsError``) during the measurement and, separately, while the sockets close.

The bench raises CHAT_RATE_LIMIT (default 20 frames/10 s per connection) to ``--chat-rate-limit``
(default 1000/1s) and SESSION_CREATE_RATE (default 30/min per IP) to ``--session-create-rate``,
because every socket and session of the bench comes from 127.0.0.1.

Example (from the repository root):

    .venv/bin/python bench/ws_fanout.py --layer pubsub --sockets 150 --sessions 30 \
        --messages 2000 --rate 100
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Where the measured server's code lives: this tree, or (--server-root) an export of an older
# commit, so "before" and "after" run side by side in the same command.
SERVER_ROOT = ROOT
# --no-flush: share the Redis db with another run (pub/sub keeps no keys; Celery does).
NO_FLUSH = False
BIN = Path(sys.executable).parent
DB_NAME = "supportdesk_bench"
PG = ["-h", "127.0.0.1", "-p", "5432", "-U", "postgres"]
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
REDIS_URL = "redis://127.0.0.1:6379/14"
DAPHNE_FLAGS = ["--websocket-max-message-size", "65536", "--websocket-max-frame-size", "65536"]
WANTED_NOFILE = 65536

# Lines of the Daphne log counted as errors, by name.
LOG_PATTERNS = {
    # One line per failure: the "Exception inside application" line Daphne logs.
    "MaxConnectionsError": re.compile(r"Exception inside application: Too many connections"),
    "ChannelFull": re.compile(r"ChannelFull"),
    # channels_redis.core logs this at INFO when group_send drops a message for a full channel.
    "over_capacity": re.compile(r"channels over capacity in group"),
    "broadcast_failed": re.compile(r"Broadcast of .* failed"),
    "traceback": re.compile(r"^Traceback \(most recent call last\)"),
    "error_lines": re.compile(r"\bERROR\b|\bCRITICAL\b"),
    "db_errors": re.compile(r"OperationalError|InterfaceError|too many clients"),
    "redis_connection_error": re.compile(r"^redis\.exceptions\.(ConnectionError|TimeoutError)"),
}


def log(text: str) -> None:
    print(f"[ws_fanout {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def run(cmd: list[str], *, env: dict | None = None, timeout: float = 120, cwd=None) -> str:
    done = subprocess.run(
        cmd,
        cwd=cwd or SERVER_ROOT,
        env=env,
        timeout=timeout,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def psql(sql: str) -> str:
    return run(["psql", *PG, "-d", DB_NAME, "-v", "ON_ERROR_STOP=1", "-qtAc", sql], timeout=60)


def raise_nofile() -> tuple[int, int]:
    """Raise the soft open-files limit (inherited by Daphne) as far as the hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = WANTED_NOFILE if hard == resource.RLIM_INFINITY else min(WANTED_NOFILE, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def flush_redis() -> None:
    if NO_FLUSH:
        return
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


def configure_targets(args) -> None:
    """Point the module at the database and Redis db chosen on the command line."""
    global DB_NAME, DATABASE_URL, REDIS_URL
    DB_NAME = args.db_name
    DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
    REDIS_URL = f"redis://127.0.0.1:6379/{args.redis_db}"


def server_env(args) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "SUPPORTDESK_TESTING")
    }
    env.update(
        {
            "DATABASE_URL": DATABASE_URL,
            "REDIS_URL": REDIS_URL,
            "CHANNEL_LAYER": args.layer,
            "SECRET_KEY": "bench",
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "CHAT_RATE_LIMIT": args.chat_rate_limit,
            "SESSION_CREATE_RATE": args.session_create_rate,
            "LOG_LEVEL": args.log_level,
            "PYTHONUNBUFFERED": "1",
            "CHANNEL_LAYER_PREFIX": args.prefix,
            # Every bench socket and request comes from 127.0.0.1 with one token per session.
            "WS_TRANSPORT_RATE": "1000000/1s",
            "WS_MAX_QUEUED_FRAMES": "100000",
            "CUSTOMER_TOKEN_RATE": "10000000/min",
            "ANON_IP_RATE": "10000000/min",
        }
    )
    if args.db_conn_max_age is not None:
        env["DB_CONN_MAX_AGE"] = str(args.db_conn_max_age)
    return env


def prepare_database(args, env: dict[str, str]) -> None:
    if not args.reuse_db:
        run(["dropdb", *PG, "--if-exists", "--force", DB_NAME], timeout=60)
        run(["createdb", *PG, DB_NAME], timeout=60)
    if not args.no_migrate:
        run([str(BIN / "python"), "manage.py", "migrate", "--noinput"], env=env, timeout=300)


_STAFF_LOGINS = """
import sys
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
user, _ = get_user_model().objects.get_or_create(
    username="bench-agent", defaults={"is_staff": True, "first_name": "Bench"}
)
user.is_staff = True
user.set_password("bench-password")
user.save()
for _ in range(int(sys.argv[-1])):
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    # The backend that loads users (axes' backend, listed first, only guards logins).
    store[BACKEND_SESSION_KEY] = next(
        b for b in settings.AUTHENTICATION_BACKENDS if b.endswith("ModelBackend")
    )
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    print(store.session_key)
"""


def staff_session_keys(env: dict[str, str], count: int) -> list[str]:
    """Log a staff user in ``count`` times (Django sessions); return the cookies' values."""
    out = run(
        [str(BIN / "python"), "-c", "import django, os; django.setup(); exec(os.environ['_S'])"]
        + [str(count)],
        env={**env, "DJANGO_SETTINGS_MODULE": "supportdesk.settings", "_S": _STAFF_LOGINS},
        timeout=120,
    )
    return [line.strip() for line in out.splitlines() if len(line.strip()) >= 32][-count:]


class AgentClient:
    """An agent console socket: records how long an inbox row takes to show a new message."""

    def __init__(self, key: str, port: int, stats: Stats):
        self.key, self.port, self.stats = key, port, stats
        self.ws = None
        self.reader: asyncio.Task | None = None

    async def open(self, timeout: float) -> None:
        from websockets.asyncio.client import connect

        self.ws = await connect(
            f"ws://127.0.0.1:{self.port}/ws/agent/",
            origin=f"http://127.0.0.1:{self.port}",
            additional_headers={"Cookie": f"sessionid={self.key}"},
            open_timeout=timeout,
            close_timeout=3,
            max_size=2**22,
            ping_interval=None,
        )
        async with asyncio.timeout(timeout):
            while json.loads(await self.ws.recv()).get("type") != "inbox":
                pass
        self.reader = asyncio.create_task(self.read())

    async def read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                now = time.perf_counter()
                if self.stats.frozen:
                    continue
                frame = json.loads(raw)
                self.stats.other_frames[f"agent:{frame.get('type')}"] += 1
                if frame.get("type") != "inbox_update":
                    continue
                last = (frame.get("session") or {}).get("last_message") or {}
                match = re.fullmatch(r"bench message (\d+)", last.get("content") or "")
                sent = self.stats.sent_at.get(int(match.group(1))) if match else None
                if sent is not None:
                    self.stats.inbox_ms.append((now - sent) * 1000)

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(BaseException):
                await self.reader


class Daphne:
    """The one server process; its output goes to a log file; stop() is idempotent."""

    def __init__(
        self,
        env: dict[str, str],
        port: int,
        log_path: Path,
        *,
        app: str = "supportdesk.asgi:application",
        profile: Path | None = None,
        profile_gil: bool = False,
    ):
        self.port = port
        self.log_path = log_path
        self._log = log_path.open("wb")
        # py-spy starts Daphne as its child (no ptrace permission needed) and writes
        # collapsed stacks when Daphne exits; bench/profile_top.py summarises them.
        prefix = []
        if profile is not None:
            prefix = [str(BIN / "py-spy"), "record", "--format", "raw", "--rate", "100"]
            # --gil: only the thread holding the GIL, i.e. Python's own CPU time (a thread
            # waiting on a socket or a lock is not sampled as busy).
            prefix += ["--gil"] if profile_gil else []
            prefix += ["--nonblocking", "-o", str(profile), "--"]
        self.popen = subprocess.Popen(
            [
                *prefix,
                str(BIN / "daphne"),
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                *DAPHNE_FLAGS,
                app,
            ],
            cwd=ROOT if app.startswith("bench.") else SERVER_ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_live(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"Daphne exited:\n{self.log_text()[-3000:]}")
            try:
                url = f"http://127.0.0.1:{self.port}/health/live"
                with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"Daphne did not start:\n{self.log_text()[-3000:]}")

    def cpu_seconds(self) -> float | None:
        try:
            fields = Path(f"/proc/{self.popen.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.popen.poll() is None:
            # SIGINT: py-spy (when profiling) then stops Daphne and writes its output.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGINT)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)
        self._log.close()


class Worker:
    """A real Celery worker (the AI's replies), in its own process group."""

    def __init__(self, env: dict[str, str], log_path: Path, concurrency: int = 2):
        self._log = log_path.open("wb")
        self.log_path = log_path
        self.popen = subprocess.Popen(
            [str(BIN / "python"), "-m", "celery", "-A", "supportdesk", "worker"]
            + ["--loglevel", "INFO", "--concurrency", str(concurrency), "--without-gossip"]
            + ["--without-mingle", "--without-heartbeat"],
            cwd=SERVER_ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"Celery exited:\n{self.log_path.read_text()[-3000:]}")
            if "ready." in self.log_path.read_text(errors="replace"):
                return
            time.sleep(0.3)
        raise RuntimeError("Celery worker did not start")

    def stop(self) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=5)
        self._log.close()


def start_ai_worker(env: dict[str, str], log_path: Path, concurrency: int = 2) -> Worker:
    """Load the demo knowledge base (seed_demo builds its index inline); start a worker."""
    run([str(BIN / "python"), "manage.py", "seed_demo"], env=env, timeout=180)
    worker = Worker(env, log_path, concurrency=concurrency)
    worker.wait_ready()
    return worker


HOT_PATH = [
    "chat/consumers.py",
    "chat/services.py",
    "supportdesk/realtime.py",
    "supportdesk/settings.py",
]


def code_version() -> dict:
    """The commit and a digest of the files on the message path, as Daphne loaded them."""
    import hashlib

    digest = hashlib.sha256()
    for name in HOT_PATH:
        with contextlib.suppress(OSError):
            digest.update((ROOT / name).read_bytes())
    try:
        head = run(["git", "rev-parse", "--short", "HEAD"], timeout=10, cwd=ROOT).strip()
        dirty = run(["git", "status", "--porcelain", "--", *HOT_PATH], timeout=10, cwd=ROOT).split()
    except (RuntimeError, OSError, subprocess.SubprocessError):
        head, dirty = "unknown", []
    return {
        "server_root": str(SERVER_ROOT),
        "git_head": head,
        "hot_path_dirty": bool(dirty),
        "hot_path_sha": digest.hexdigest()[:12],
    }


def scan_log(text: str) -> tuple[dict[str, int], list[str]]:
    counts = {name: 0 for name in LOG_PATTERNS}
    samples: list[str] = []
    for line in text.splitlines():
        hit = False
        for name, pattern in LOG_PATTERNS.items():
            if pattern.search(line):
                counts[name] += 1
                hit = True
        if hit and len(samples) < 5 and line.strip() not in samples:
            samples.append(line.strip()[:300])
    return counts, samples


def percentile(sorted_values: list[float], pct: float) -> float | None:
    if not sorted_values:
        return None
    rank = max(0, min(len(sorted_values) - 1, int(round(pct / 100 * len(sorted_values) + 0.5)) - 1))
    return round(sorted_values[rank], 1)


# --- the client side ---------------------------------------------------------------------------


class Stats:
    def __init__(self):
        self.sent_at: dict[int, float] = {}
        self.latencies_ms: list[float] = []
        self.seen: set[tuple[int, int]] = set()
        self.delivered = 0
        self.duplicates = 0
        self.acks = 0
        self.ack_ms: list[float] = []
        self.error_frames: collections.Counter = collections.Counter()
        self.other_frames: collections.Counter = collections.Counter()
        self.close_codes: collections.Counter = collections.Counter()
        self.connect_errors: collections.Counter = collections.Counter()
        self.send_errors = 0
        self.expected = 0
        self.frozen = False  # set at the deadline: later frames are not counted
        self.expected_by_msg: dict[int, int] = {}
        self.acked: set[int] = set()
        self.delivered_by_msg: collections.Counter = collections.Counter()
        self.inbox_ms: list[float] = []


class Client:
    def __init__(self, index: int, session: dict, port: int, stats: Stats):
        self.index = index
        self.session = session
        self.port = port
        self.stats = stats
        self.ws = None
        self.ready = False
        self.closing = False
        self.reader: asyncio.Task | None = None

    async def open(self, timeout: float) -> None:
        from websockets.asyncio.client import connect

        url = f"ws://127.0.0.1:{self.port}/ws/sessions/{self.session['id']}/"
        self.ws = await connect(
            url,
            origin=f"http://127.0.0.1:{self.port}",
            open_timeout=timeout,
            close_timeout=3,
            max_size=2**20,
            ping_interval=None,  # Daphne pings us; keep the client's own traffic minimal
        )
        await self.ws.send(json.dumps({"type": "auth", "token": self.session["token"]}))
        async with asyncio.timeout(timeout):
            while True:
                frame = json.loads(await self.ws.recv())
                if frame.get("type") == "ready":
                    break
                if frame.get("type") == "error":
                    raise RuntimeError(f"auth error {frame.get('code')}")
        self.ready = True
        self.reader = asyncio.create_task(self.read())

    async def read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        stats = self.stats
        try:
            async for raw in self.ws:
                now = time.perf_counter()
                if stats.frozen:
                    continue
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "message":
                    cmid = frame["message"].get("client_msg_id") or ""
                    if not cmid.startswith("b"):
                        stats.other_frames["message_without_bench_id"] += 1
                        continue
                    k = int(cmid[1:])
                    sent = stats.sent_at.get(k)
                    if sent is None:
                        stats.other_frames["message_unknown_id"] += 1
                        continue
                    key = (k, self.index)
                    if key in stats.seen:
                        stats.duplicates += 1
                        continue
                    stats.seen.add(key)
                    stats.delivered += 1
                    stats.delivered_by_msg[k] += 1
                    stats.latencies_ms.append((now - sent) * 1000)
                elif kind == "ack":
                    stats.acks += 1
                    cmid = frame.get("client_msg_id") or ""
                    sent = stats.sent_at.get(int(cmid[1:])) if cmid[1:].isdigit() else None
                    if sent is not None and int(cmid[1:]) not in stats.acked:
                        stats.acked.add(int(cmid[1:]))
                        stats.ack_ms.append((now - sent) * 1000)
                elif kind == "error":
                    stats.error_frames[frame.get("code", "?")] += 1
                else:
                    stats.other_frames[kind] += 1
        except ConnectionClosed:
            pass
        finally:
            self.ready = False
            if not self.closing:
                code = self.ws.close_code if self.ws is not None else None
                stats.close_codes[str(code)] += 1

    async def close(self) -> None:
        self.closing = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(BaseException):
                await self.reader


def create_sessions(port: int, count: int) -> list[dict]:
    sessions = []
    for i in range(count):
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/sessions/",
            data=json.dumps({"customer_name": f"bench {i}"}).encode(),
            headers={"Content-Type": "application/json", "Origin": f"http://127.0.0.1:{port}"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
            body = json.loads(response.read())
        sessions.append({"id": body["id"], "token": body["token"]})
    return sessions


# With --ai: questions the demo knowledge base answers, so the AI keeps the session (a text it
# cannot answer is escalated to a person after the first reply, and the AI stops answering).
AI_QUESTIONS = [
    "how do i open an account with you",
    "is it possible to check out as a guest?",
]


def content(args, k: int) -> str:
    return AI_QUESTIONS[k % len(AI_QUESTIONS)] if args.ai else f"bench message {k}"


async def bench(args, port: int, daphne: Daphne) -> dict:
    stats = Stats()
    if args.server == "bare":
        # The bare consumer has no sessions: any id is a group, any token is accepted.
        sessions = [{"id": str(uuid.uuid4()), "token": "-"} for _ in range(args.sessions)]
    else:
        sessions = await asyncio.to_thread(create_sessions, port, args.sessions)
    if args.server == "supportdesk" and not args.ai:
        ids = ",".join(str(uuid.UUID(s["id"])) for s in sessions)  # validated: safe to inline
        sql = "UPDATE sessions_app_supportsession SET handled_by='human', status='escalated' "
        sql += f"WHERE id = ANY('{{{ids}}}'::uuid[])"  # noqa: S608 - UUIDs only
        await asyncio.to_thread(psql, sql)
        log(f"{len(sessions)} sessions created and set to human/escalated")

    clients = [Client(i, sessions[i % len(sessions)], port, stats) for i in range(args.sockets)]
    gate = asyncio.Semaphore(args.connect_concurrency)

    async def open_one(client: Client) -> None:
        async with gate:
            try:
                await client.open(args.connect_timeout)
            except Exception as error:  # noqa: BLE001 - counted and reported
                stats.connect_errors[type(error).__name__] += 1

    t_connect = time.perf_counter()
    try:
        async with asyncio.timeout(args.connect_timeout * 3):
            await asyncio.gather(*(open_one(c) for c in clients))
    except TimeoutError:
        stats.connect_errors["connect_phase_timeout"] += 1
    connect_s = time.perf_counter() - t_connect
    ready = [c for c in clients if c.ready]
    log(f"{len(ready)}/{len(clients)} sockets ready in {connect_s:.1f}s")
    if not ready:
        raise RuntimeError(f"no socket became ready: {dict(stats.connect_errors)}")

    agents: list[AgentClient] = []
    if args.agents:
        keys = await asyncio.to_thread(staff_session_keys, server_env(args), args.agents)
        agents = [AgentClient(key, port, stats) for key in keys]
        results = await asyncio.gather(
            *(a.open(args.connect_timeout) for a in agents), return_exceptions=True
        )
        failed = [r for r in results if isinstance(r, BaseException)]
        for error in failed:
            stats.connect_errors[f"agent {type(error).__name__}"] += 1
        log(f"{len(agents) - len(failed)}/{len(agents)} agent console sockets ready")

    by_session: dict[str, list[Client]] = collections.defaultdict(list)
    for client in ready:
        by_session[client.session["id"]].append(client)

    await asyncio.sleep(args.settle)
    cpu0, load_before = daphne.cpu_seconds(), os.getloadavg()
    self0 = resource.getrusage(resource.RUSAGE_SELF)
    log_offset_start = daphne.log_path.stat().st_size

    # --- send M messages at R msg/s, round-robin over the ready sockets --------------------
    t0 = time.perf_counter()
    max_lag = 0.0
    send_budget_end = t0 + args.messages / args.rate + args.send_slack
    for k in range(args.messages):
        target = t0 + k / args.rate
        now = time.perf_counter()
        if target > now:
            await asyncio.sleep(target - now)
        else:
            max_lag = max(max_lag, now - target)
        if time.perf_counter() > send_budget_end:
            log(f"send budget exhausted after {k} messages")
            break
        sender = ready[k % len(ready)]
        if not sender.ready:
            stats.send_errors += 1
            continue
        frame = json.dumps(
            {"type": "message", "content": content(args, k), "client_msg_id": f"b{k}"}
        )
        fanout = sum(1 for c in by_session[sender.session["id"]] if c.ready)
        stats.expected += fanout
        stats.expected_by_msg[k] = fanout
        stats.sent_at[k] = time.perf_counter()
        try:
            await sender.ws.send(frame)
        except Exception:  # noqa: BLE001 - counted
            stats.send_errors += 1
            del stats.sent_at[k]
    t_last = time.perf_counter()
    sent = len(stats.sent_at)
    log(f"sent {sent} messages in {t_last - t0:.1f}s (max lag behind schedule {max_lag:.2f}s)")

    # --- wait for the deliveries ------------------------------------------------------------
    deadline = t_last + args.deadline
    while time.perf_counter() < deadline and stats.delivered < stats.expected:
        await asyncio.sleep(0.1)
    t_end = time.perf_counter()
    stats.frozen = True
    cpu1, load_after = daphne.cpu_seconds(), os.getloadavg()
    self1 = resource.getrusage(resource.RUSAGE_SELF)
    log_bytes = daphne.log_path.read_bytes()
    log_offset_end = len(log_bytes)
    measurement_log = log_bytes[log_offset_start:].decode(errors="replace")
    before_measure_log = log_bytes[:log_offset_start].decode(errors="replace")
    stored = "0"
    if args.server == "supportdesk":
        # This run's sessions only: with --reuse-db earlier runs' rows are still there.
        ids = ",".join(str(uuid.UUID(x["id"])) for x in sessions)
        sql = "SELECT count(*) FROM chat_message WHERE client_msg_id LIKE 'b%' "
        sql += f"AND session_id = ANY('{{{ids}}}'::uuid[])"  # noqa: S608 - UUIDs only
        stored = await asyncio.to_thread(psql, sql)

    # --- close the sockets (errors here are reported separately) ----------------------------
    closes = [c.close() for c in clients] + [a.close() for a in agents]
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(20):
            await asyncio.gather(*closes, return_exceptions=True)
    await asyncio.sleep(2)
    teardown_log = daphne.log_path.read_bytes()[log_offset_end:]

    lat = sorted(stats.latencies_ms)
    acked = set(stats.acked)
    expected_acked = sum(stats.expected_by_msg[k] for k in acked)
    delivered_acked = sum(stats.delivered_by_msg[k] for k in acked)
    during, samples = scan_log(measurement_log)
    connect_errs, connect_samples = scan_log(before_measure_log)
    after, after_samples = scan_log(teardown_log.decode(errors="replace"))
    cpu = (cpu1 - cpu0) if cpu0 is not None and cpu1 is not None else None
    wall = t_end - t0
    return {
        "server": args.server,
        "ai": args.ai,
        "deliveries_per_s": round(stats.delivered / max(1e-9, t_end - t0), 1),
        "layer": args.layer,
        "sockets": args.sockets,
        "sockets_ready": len(ready),
        "sessions": args.sessions,
        "sockets_per_session": round(len(ready) / max(1, len(by_session)), 2),
        "messages": sent,
        "messages_stored": int(stored.strip() or 0),
        "stored_counts_this_run_only": True,
        "acks": stats.acks,
        "rate_target": args.rate,
        "rate_achieved": round(sent / max(1e-9, t_last - t0), 1),
        "max_send_lag_s": round(max_lag, 2),
        "expected_deliveries": stats.expected,
        "delivered": stats.delivered,
        "delivery_ratio": round(stats.delivered / stats.expected, 4) if stats.expected else None,
        "acked_messages": len(acked),
        "expected_for_acked": expected_acked,
        "delivered_for_acked": delivered_acked,
        "delivery_ratio_acked": round(delivered_acked / expected_acked, 4)
        if expected_acked
        else None,
        "duplicates": stats.duplicates,
        "latency_ms": {
            "p50": percentile(lat, 50),
            "p95": percentile(lat, 95),
            "p99": percentile(lat, 99),
            "max": round(lat[-1], 1) if lat else None,
        },
        "agent_sockets": len(agents),
        "inbox_updates": len(stats.inbox_ms),
        "inbox_latency_ms": {
            "p50": percentile(sorted(stats.inbox_ms), 50),
            "p99": percentile(sorted(stats.inbox_ms), 99),
        },
        "ack_latency_ms": {
            "p50": percentile(sorted(stats.ack_ms), 50),
            "p95": percentile(sorted(stats.ack_ms), 95),
            "max": round(max(stats.ack_ms), 1) if stats.ack_ms else None,
        },
        "time": {
            "connect_s": round(connect_s, 1),
            "send_s": round(t_last - t0, 1),
            "drain_s": round(t_end - t_last, 1),
            "deadline_s": args.deadline,
        },
        "daphne_cpu_pct_of_one_core": round(100 * cpu / wall, 1) if cpu is not None else None,
        "client_cpu_pct_of_one_core": round(
            100 * ((self1.ru_utime + self1.ru_stime) - (self0.ru_utime + self0.ru_stime)) / wall,
            1,
        ),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
        "errors": {
            "daphne_log_during_connect": {k: v for k, v in connect_errs.items() if v},
            "daphne_log_during_measurement": {k: v for k, v in during.items() if v},
            "daphne_log_during_close": {k: v for k, v in after.items() if v},
            "daphne_log_samples": (connect_samples + samples + after_samples)[:8],
            "connect_errors": dict(stats.connect_errors),
            "unexpected_close_codes": dict(stats.close_codes),
            "error_frames": dict(stats.error_frames),
            "send_errors": stats.send_errors,
        },
        "other_frames": dict(stats.other_frames),
        "settings": {
            "CHAT_RATE_LIMIT": args.chat_rate_limit,
            "SESSION_CREATE_RATE": args.session_create_rate,
            "DB_CONN_MAX_AGE": args.db_conn_max_age,
            "connect_concurrency": args.connect_concurrency,
        },
    }


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layer", choices=["pubsub", "core"], default="pubsub")
    parser.add_argument("--sockets", type=int, default=150, help="N customer sockets")
    parser.add_argument("--sessions", type=int, default=30, help="S sessions (socket i → i %% S)")
    parser.add_argument("--messages", type=int, default=2000, help="M messages to send")
    parser.add_argument("--rate", type=float, default=100.0, help="R target messages/s")
    parser.add_argument("--deadline", type=float, default=20.0, help="s to wait after last send")
    parser.add_argument("--connect-concurrency", type=int, default=100)
    parser.add_argument("--connect-timeout", type=float, default=30.0)
    parser.add_argument("--settle", type=float, default=1.0, help="s between connect and send")
    parser.add_argument("--send-slack", type=float, default=60.0, help="extra s for sending")
    parser.add_argument("--max-seconds", type=float, default=240.0, help="hard cap per run")
    parser.add_argument("--chat-rate-limit", default="1000/1s")
    parser.add_argument("--session-create-rate", default="100000/min")
    parser.add_argument("--db-conn-max-age", type=int, default=None, help="DB_CONN_MAX_AGE env")
    parser.add_argument("--log-level", default="INFO", help="Daphne's LOG_LEVEL")
    parser.add_argument("--reuse-db", action="store_true", help="keep supportdesk_bench")
    parser.add_argument("--server", choices=["supportdesk", "bare"], default="supportdesk")
    parser.add_argument(
        "--ai", action="store_true", help="leave sessions to the AI and start a Celery worker"
    )
    parser.add_argument("--db-name", default=DB_NAME, help="PostgreSQL database (re-created)")
    parser.add_argument("--redis-db", type=int, default=14, help="Redis db number (flushed)")
    parser.add_argument("--prefix", default="bench", help="CHANNEL_LAYER_PREFIX")
    parser.add_argument("--agents", type=int, default=0, help="agent console sockets to open")
    parser.add_argument("--no-flush", action="store_true", help="leave the Redis db as it is")
    parser.add_argument("--no-migrate", action="store_true", help="with --reuse-db: skip it")
    parser.add_argument("--server-root", type=Path, help="run the server from this tree")
    parser.add_argument("--profile", type=Path, help="py-spy collapsed stacks of Daphne here")
    parser.add_argument(
        "--profile-gil", action="store_true", help="with --profile: sample the GIL holder only"
    )
    parser.add_argument("--json-out", type=Path, help="append the summary (one JSON line)")
    parser.add_argument("--log-dir", type=Path, default=Path(tempfile.gettempdir()) / "ws_fanout")
    args = parser.parse_args()
    if not (1 <= args.sessions <= args.sockets <= 5000 and 1 <= args.messages <= 100_000):
        parser.error("need 1 <= sessions <= sockets <= 5000 and 1 <= messages <= 100000")
    if not 0 < args.rate <= 10_000:
        parser.error("rate must be in (0, 10000]")

    # SIGTERM runs the same cleanup as Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    nofile = raise_nofile()
    needed = args.sockets * 2 + 200
    if nofile[0] < needed:
        log(f"warning: open-files limit {nofile[0]} < {needed} needed")
    configure_targets(args)
    global NO_FLUSH
    NO_FLUSH = args.no_flush
    if args.server_root is not None:
        global SERVER_ROOT
        SERVER_ROOT = args.server_root.resolve()
    env = server_env(args)
    args.log_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = args.log_dir / f"daphne-{args.server}-{args.sockets}-{int(args.rate)}-{port}.log"

    if args.server == "supportdesk":
        log(f"preparing database {DB_NAME}")
        prepare_database(args, env)
    flush_redis()
    daphne = worker = None
    try:
        version = code_version()
        if args.ai:
            worker = start_ai_worker(env, args.log_dir / f"celery-{port}.log")
        app = "bench.bare_asgi:application" if args.server == "bare" else None
        daphne = Daphne(
            env,
            port,
            log_path,
            profile=args.profile,
            profile_gil=args.profile_gil,
            **({"app": app} if app else {}),
        )
        daphne.wait_live()
        log(f"Daphne pid {daphne.popen.pid} on port {port}, layer {args.layer}, log {log_path}")
        summary = asyncio.run(asyncio.wait_for(bench(args, port, daphne), args.max_seconds))
        summary["code"] = version
        summary["nofile_limit"] = nofile[0]
        summary["daphne_log"] = str(log_path)
        summary["daphne_alive_at_end"] = daphne.popen.poll() is None
    finally:
        if daphne is not None:
            daphne.stop()
        if worker is not None:
            worker.stop()
        with contextlib.suppress(Exception):
            flush_redis()
    text = json.dumps(summary, indent=2)
    print(text, flush=True)
    if args.json_out:
        with args.json_out.open("a") as fh:
            fh.write(json.dumps(summary) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
