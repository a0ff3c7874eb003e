"""Start real server processes (Daphne, Celery) for end-to-end and browser tests."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
DAPHNE_FLAGS = [
    "--websocket-max-message-size",
    "65536",
    "--websocket-max-frame-size",
    "65536",
    "--application-close-timeout",
    "5",
]
STARTUP_TIMEOUT = 45.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url() -> str:
    """Return a DATABASE_URL for the database this test process is using right now."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = urllib.parse.quote(db.get("USER") or "")
    password = urllib.parse.quote(db.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{db['NAME']}"


def server_env(**extra: str) -> dict[str, str]:
    """Return the environment for a server process sharing this test's database."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "supportdesk.test_settings",
        "SUPPORTDESK_TESTING": "1",
        "DATABASE_URL": database_url(),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DEBUG", None)
    env.update(extra)
    return env


def raise_nofile_limit() -> None:
    """preexec for Daphne: enough file descriptors for hundreds of sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 8192 if hard == resource.RLIM_INFINITY else min(8192, hard)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


@dataclass
class ManagedProcess:
    """A child process with its output in a log file."""

    name: str
    process: subprocess.Popen
    log_path: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_text(self, start: int = 0) -> str:
        try:
            with self.log_path.open("rb") as handle:
                handle.seek(start)
                return handle.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a grace period: only this process (we started it)."""
        if not self.alive():
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_process(
    name: str, argv: list[str], log_dir: Path, env: dict[str, str], **kwargs
) -> ManagedProcess:
    log_path = log_dir / f"{name}.log"
    handle = log_path.open("wb")
    try:
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            **kwargs,
        )
    finally:
        handle.close()  # the child holds its own descriptor
    return ManagedProcess(name, process, log_path)


def daphne_argv(port: int) -> list[str]:
    """Daphne as `make run` starts it (supportdesk/serve.py: 1009 for oversized frames)."""
    return [
        sys.executable,
        "-m",
        "supportdesk.serve",
        "-b",
        "127.0.0.1",
        "-p",
        str(port),
        *DAPHNE_FLAGS,
        "supportdesk.asgi:application",
    ]


def wait_until_live(process: ManagedProcess, base_url: str) -> None:
    """Wait for /health/live, failing with the server's log if it dies or never answers."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if not process.alive():
            raise RuntimeError(f"{process.name} exited:\n{process.log_text()}")
        try:
            url = f"{base_url}/health/live"
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (http only)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    process.stop()
    raise RuntimeError(f"{process.name} did not start:\n{process.log_text()}")


def start_daphne(
    log_dir: Path, env: dict[str, str], port: int | None = None
) -> tuple[ManagedProcess, str]:
    """Start Daphne (on a free port unless given) and wait until /health/live answers."""
    port = port or free_port()
    process = start_process(
        f"daphne-{port}-{time.monotonic_ns()}",
        daphne_argv(port),
        log_dir,
        env,
        preexec_fn=raise_nofile_limit,
    )
    base_url = f"http://127.0.0.1:{port}"
    wait_until_live(process, base_url)
    return process, base_url


def start_redis(log_dir: Path, port: int) -> ManagedProcess:
    """Start a private, non-persistent redis-server on ``port`` (a fault test may stop it).

    Waits until it answers PING. Only this server may be stopped by a test: the shared one
    belongs to everybody.
    """
    import redis

    process = start_process(
        f"redis-{port}-{time.monotonic_ns()}",
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ],
        log_dir,
        os.environ.copy(),
    )
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if not process.alive():
            raise RuntimeError(f"redis-server exited:\n{process.log_text()}")
        try:
            if client.ping():
                return process
        except redis.exceptions.ConnectionError:
            time.sleep(0.1)
    process.stop()
    raise RuntimeError(f"redis-server did not start:\n{process.log_text()}")


def start_haproxy(
    log_dir: Path, backends: list[str], port: int | None = None, balance: str = "leastconn"
) -> tuple[ManagedProcess, str]:
    """Start HAProxy on 127.0.0.1 in front of ``backends`` (Daphne base URLs).

    The configuration is the one `make up WEB=N` uses (scripts/haproxy_config.py). Returns
    once every backend passed its health check, with the balancer's base URL.
    """
    import shutil

    from scripts.haproxy_config import BACKEND_HEADER, render

    if shutil.which("haproxy") is None:
        raise RuntimeError("haproxy is not installed: `make test` installs Debian's package")
    port = port or free_port()
    servers = [urllib.parse.urlsplit(url).netloc for url in backends]
    config = log_dir / f"haproxy-{port}.cfg"
    config.write_text(render(bind=f"127.0.0.1:{port}", servers=servers, balance=balance))
    process = start_process(
        f"haproxy-{port}-{time.monotonic_ns()}",
        ["haproxy", "-db", "-f", str(config)],
        log_dir,
        os.environ.copy(),
    )
    base_url = f"http://127.0.0.1:{port}"
    # Up means: every backend answered through the balancer (the health checks marked all
    # of them UP), so a test's first sockets can land on any of them.
    expected = {f"web{index}" for index in range(1, len(servers) + 1)}
    seen: set[str] = set()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline and seen != expected:
        if not process.alive():
            raise RuntimeError(f"haproxy exited:\n{process.log_text()}")
        try:
            with urllib.request.urlopen(f"{base_url}/health/live", timeout=1) as response:  # noqa: S310
                seen.add(response.headers.get(BACKEND_HEADER, ""))
        except OSError:
            time.sleep(0.2)
    if seen != expected:
        process.stop()
        raise RuntimeError(
            f"haproxy: backends {expected - seen} never answered:\n{process.log_text()}"
        )
    return process, base_url


def celery_argv(*args: str) -> list[str]:
    """`celery -A supportdesk <args>` with this interpreter's Celery."""
    return [sys.executable, "-m", "celery", "-A", "supportdesk", *args]


def start_celery(
    name: str, args: list[str], log_dir: Path, env: dict[str, str], ready_marker: str
) -> ManagedProcess:
    """Start a Celery worker or beat in its own process group; wait for ``ready_marker``.

    Its own process group lets a test SIGKILL the whole worker (main process and pool
    children) with ``kill_group`` and nothing else.
    """
    process = start_process(
        f"{name}-{time.monotonic_ns()}", celery_argv(*args), log_dir, env, start_new_session=True
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if not process.alive():
            raise RuntimeError(f"{process.name} exited:\n{process.log_text()[-6000:]}")
        if ready_marker in process.log_text():
            return process
        time.sleep(0.2)
    kill_group(process)
    raise RuntimeError(f"{process.name} did not start:\n{process.log_text()[-6000:]}")


def kill_group(process: ManagedProcess) -> None:
    """SIGKILL a process started with start_new_session and every process of its group."""
    if process.process.poll() is None or _group_alive(process.process.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.process.pid, signal.SIGKILL)
    process.process.wait(timeout=10)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


class StaticSite:
    """A plain static web server on its own 127.0.0.1 port: another origin for widget tests."""

    def __init__(self, directory: Path):
        import functools
        import http.server
        import threading

        class QuietHandler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):  # keep the test output clean
                pass

        handler = functools.partial(QuietHandler, directory=str(directory))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
