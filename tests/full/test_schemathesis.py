"""Schemathesis, an outside tester, against /api/schema/ of a real Daphne with an API key.

Every operation of the schema is called with generated data (examples, coverage, fuzzing and
stateful phases; a fixed number of examples per operation and a fixed seed, so a run is
bounded and reproducible) and each answer is checked: no 5xx, a documented status code,
content type and headers, a body matching the documented schema, and no operation that
answers without the credentials it documents. A first run pins ``session_id`` to a real
session (so the lifecycle and message operations do real work); a second lets schemathesis
invent ids (malformed and unknown ones: the 400/404 paths).

Not checked: ``negative_data_rejection`` (DRF deliberately accepts ``0`` for a string field
and ``"5"`` for an integer one), ``positive_data_acceptance`` (valid data may meet a closed
session or an unknown id), and the object-level checks that need more than one principal.
"""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.factories import SupportSessionFactory
from tests.full.conftest import BIN, subprocess_env
from tests.servers import start_daphne

pytestmark = pytest.mark.full

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "ignored_auth",
        "missing_required_header",
        "unsupported_method",
    ]
)
EXAMPLES_PER_OPERATION = 10
SEED = 20261130


@pytest.fixture
def api_server(transactional_db, tmp_path):
    """A Daphne of its own, whose throttles don't cut the run short (they have their tests)."""
    env = subprocess_env()
    env.update(
        API_KEY_RATE="100000/min",
        SESSION_CREATE_RATE="100000/min",
        ANON_IP_RATE="100000/min",
        CUSTOMER_TOKEN_RATE="100000/min",
        API_WAIT_MAX_SECONDS="1",
    )
    process, base_url = start_daphne(tmp_path, env)
    try:
        yield base_url, process
    finally:
        process.stop()


def run_schemathesis(base_url: str, key: str, workdir, config: str = "") -> tuple[int, str, float]:
    config_file = workdir / "schemathesis.toml"
    config_file.write_text(config)
    started = time.monotonic()
    result = subprocess.run(
        [
            str(BIN / "schemathesis"),
            "--no-color",
            "--config-file",
            str(config_file),
            "run",
            f"{base_url}/api/schema/",
            "--header",
            f"Authorization: Api-Key {key}",
            "--max-examples",
            str(EXAMPLES_PER_OPERATION),
            "--seed",
            str(SEED),
            "--checks",
            CHECKS,
            "--workers",
            "1",
            "--request-timeout",
            "10",
        ],
        cwd=workdir,  # its .schemathesis cache stays out of the repository
        capture_output=True,
        text=True,
        # ~70 operations × 10 examples: about 100 s each on this 2-core machine.
        timeout=280,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr, time.monotonic() - started


@pytest.mark.timeout(620)
def test_schemathesis_finds_no_5xx_and_no_schema_violation(api_server, tmp_path):
    from apikeys.services import api_key_create

    base_url, daphne = api_server
    key = api_key_create(name="schemathesis", scopes=["read", "write", "ops"]).key
    session = SupportSessionFactory()

    pinned = tmp_path / "pinned"
    pinned.mkdir()
    code, output, seconds = run_schemathesis(
        base_url, key, pinned, f'[parameters]\nsession_id = "{session.pk}"\n'
    )
    print(f"schemathesis (session_id pinned): {seconds:.1f} s\n{output[-1500:]}")
    assert code == 0, output[-12000:]

    invented = tmp_path / "invented"
    invented.mkdir()
    code, output, seconds = run_schemathesis(base_url, key, invented)
    print(f"schemathesis (ids invented): {seconds:.1f} s\n{output[-1500:]}")
    assert code == 0, output[-12000:]
    assert "Traceback" not in daphne.log_text(), daphne.log_text()[-6000:]
