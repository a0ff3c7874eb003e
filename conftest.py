"""Suite-wide pytest setup: run-mode checks, a fresh channel layer, common fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings


def pytest_runtest_setup(item):
    """Fail (never skip) a full-mode test that would run without real services."""
    if item.get_closest_marker("full") is None:
        return
    if settings.EMBEDDED or settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        pytest.fail(
            "Full-mode tests need REDIS_URL and DATABASE_URL (PostgreSQL); run them through "
            "`make test`, which starts the services and sets both.",
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Each test starts with an empty channel layer (in-memory layers keep state per process)."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    # Only our keys: in full mode the cache shares its Redis database with the Celery broker,
    # and clear() would FLUSHDB queued tasks away.
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("*")
    else:
        cache.clear()
    yield


@pytest.fixture
def throttle_rates(settings):
    """Return a function that sets DRF throttle rates (e.g. ``api_key="3/min"``) for a test."""

    def apply(**rates):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                **rates,
            },
        }

    return apply


@pytest.fixture
def sql_log():
    """Record every SQL statement run in any thread (consumers query from worker threads)."""
    from unittest import mock

    from django.db.backends.utils import CursorWrapper

    statements: list[str] = []
    real_execute = CursorWrapper.execute

    def execute(self, sql, params=None):
        statements.append(sql)
        return real_execute(self, sql, params)

    with mock.patch.object(CursorWrapper, "execute", execute):
        yield statements


@pytest.fixture
def demo_kb(db):
    """Load the demo shop's knowledge base (and build its index)."""
    from agents.kb_io import kb_import
    from agents.management.commands.seed_demo import DEMO_DIR

    kb_import(articles_file=DEMO_DIR / "articles.jsonl", examples_files=[DEMO_DIR / "examples.csv"])


EVAL_DATA = Path(__file__).resolve().parent.parent / "shared" / "eval" / "banking77"


@pytest.fixture
def banking77() -> Path:
    """The Banking77 evaluation data beside the repo; required in CI, skipped only locally."""
    if not EVAL_DATA.is_dir():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{EVAL_DATA} is missing in CI", pytrace=False)
        pytest.skip(f"{EVAL_DATA} is not beside this checkout")
    return EVAL_DATA


@pytest.fixture
def smtp_server():
    """A real local SMTP server (aiosmtpd); see tests/smtp.py."""
    from tests.smtp import smtp_start

    server = smtp_start()
    try:
        yield server
    finally:
        server.controller.stop()


@pytest.fixture
def smtp_settings(settings, smtp_server):
    """Point Django's email framework (SMTP backend) at the local SMTP server."""
    for name, value in smtp_server.settings().items():
        setattr(settings, name, value)
    return smtp_server
