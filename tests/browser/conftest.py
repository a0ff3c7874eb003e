"""Browser-test plumbing: Debian's Chromium driven by Playwright, one browser per test."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
# Headless as root, and nothing that reaches for the network this machine does not have.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000


@contextmanager
def chromium() -> Iterator:
    """Launch Debian's Chromium (never a downloaded one); fail clearly if it is missing."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser():
    with chromium() as launched:
        yield launched


def new_page(browser, width: int = 1280, height: int = 800):
    """A page in a fresh context (its own cookies) with the suite's default timeout."""
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return page


def console_login(page, url: str, username: str, password: str | None = None) -> None:
    """Open ``url`` (a staff page: the login form comes first) and sign in as ``username``.

    The password defaults to "<username>-password", as the tests create their users.
    """
    page.goto(url)
    page.fill("#id_username", username)
    page.fill("#id_password", password or f"{username}-password")
    page.click("#login-button")


def off_loop(function):
    """Run ORM code in a plain thread: Playwright's sync API keeps an event loop running here."""
    from django.db import connection

    def run():
        try:
            return function()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()
