"""LOG_FORMAT=json: every line a process writes is a JSON object carrying its context id."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from supportdesk.logging import ContextFilter, JsonFormatter, context_id

ROOT = Path(__file__).resolve().parents[2]

# A process configured from the real settings serves one request whose readiness checks fail
# (an empty database: no migrations, no articles), which logs WARNINGs inside that request.
REQUEST_IN_A_FRESH_PROCESS = """
import django
django.setup()
from django.test import Client
response = Client().get("/health/ready", HTTP_X_REQUEST_ID="ops-json-probe-1")
assert response.status_code == 503, response.status_code
"""


def test_json_log_lines_of_a_request_are_valid_json_with_its_request_id(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "supportdesk.settings",
        "SUPPORTDESK_TESTING": "1",
        "LOG_FORMAT": "json",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "REDIS_URL": "",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    done = subprocess.run(
        [sys.executable, "-c", REQUEST_IN_A_FRESH_PROCESS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines, "the failing readiness checks should have logged"
    records = [json.loads(line) for line in lines]  # every line is JSON, or this raises
    readiness = [r for r in records if r["logger"] == "supportdesk.health"]
    assert readiness, records
    for record in readiness:
        assert record["level"] == "WARNING"
        assert record["message"].startswith("Readiness check ")
        assert record["time"].endswith("+00:00")
    # A failing probe is the readiness checks' WARNINGs, not also a django.request ERROR.
    assert not [r for r in records if r["logger"] == "django.request"], records
    for record in readiness:
        assert record["request_id"] == "ops-json-probe-1"
        assert record["context"] == "req:ops-json-probe-1"


def test_json_formatter_names_the_connection_or_task_id_and_keeps_tracebacks_and_extras():
    formatter = JsonFormatter()
    log = logging.getLogger("supportdesk.tests.json")
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(formatter)
    handler.addFilter(ContextFilter())
    log.addHandler(handler)
    log.propagate = False
    try:
        token = context_id.set("ws:abc123")
        log.warning("socket said %s", "hi", extra={"close_code": 4029})
        context_id.reset(token)
        token = context_id.set("task:t-42")
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("task broke")
        context_id.reset(token)
        log.warning("no context")
    finally:
        log.removeHandler(handler)
        log.propagate = True

    socket_line, task_line, bare_line = (json.loads(line) for line in lines)
    assert socket_line["message"] == "socket said hi"
    assert socket_line["connection_id"] == "abc123" and socket_line["close_code"] == 4029
    assert task_line["task_id"] == "t-42" and "ValueError: boom" in task_line["exc_info"]
    assert bare_line["context"] == "-"
    assert not {"request_id", "connection_id", "task_id"} & set(bare_line)


def settings_import_error(**env_overrides: str) -> str:
    """Import the settings in a fresh process with ``env_overrides``; return its stderr."""
    env = {**os.environ, "SUPPORTDESK_TESTING": "1", **env_overrides}
    done = subprocess.run(
        [sys.executable, "-c", "import supportdesk.settings"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0, "the settings should have refused this value"
    return done.stderr


def test_an_unknown_log_format_stops_the_process_with_a_clear_message():
    stderr = settings_import_error(LOG_FORMAT="xml")
    assert "ImproperlyConfigured: LOG_FORMAT must be 'plain' or 'json', not 'xml'" in stderr


def test_a_malformed_metrics_allowed_ip_stops_the_process_with_a_clear_message():
    stderr = settings_import_error(METRICS_ALLOWED_IPS="10.0.0.0/8,not-an-address")
    assert "METRICS_ALLOWED_IPS: 'not-an-address' is not an IP address or network" in stderr
