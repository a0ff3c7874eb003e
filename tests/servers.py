"""Start real server processes (Daphne, Celery) for end-to-end and browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DAPHNE_FLAGS = ["--websocket-max-message-size", "65536", "--websocket-max-frame-size", "65536"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url() -> str:
    """Return a DATABASE_URL for the database this test process is using right now."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


def server_env(**extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "supportdesk.test_settings",
        "SUPPORTDESK_TESTING": "1",
        "DATABASE_URL": database_url(),
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra)
    return env


class Process:
    """A child process with its output in a log file, stopped on close()."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path):
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.popen = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def close(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)
        self._log.close()


def start_daphne(
    log_dir: Path, env: dict[str, str], port: int | None = None
) -> tuple[Process, str]:
    """Start Daphne (on a free port unless given) and wait until /health/live answers."""
    port = port or free_port()
    process = Process(
        [
            sys.executable,
            "-m",
            "supportdesk.serve",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            *DAPHNE_FLAGS,
            "supportdesk.asgi:application",
        ],
        env,
        log_dir / f"daphne-{port}.log",
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"Daphne exited:\n{process.log()}")
        try:
            url = f"{base_url}/health/live"
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (http only)
                if response.status == 200:
                    return process, base_url
        except OSError:
            time.sleep(0.2)
    process.close()
    raise RuntimeError(f"Daphne did not start:\n{process.log()}")
