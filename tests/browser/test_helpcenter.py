"""The help center in Chromium: zero axe-core violations, a working skip link and search."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import TIMEOUT_MS
from tests.servers import server_env, start_daphne

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# axe-core 4.14.1 from the npm registry (`npm pack axe-core@4.14.1`), vendored with its
# licence files beside it: the same bytes the issue-13 accessibility tests use.
AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
PAGES = [
    "/help/",
    "/help/search/?q=delivery",
    "/help/search/?q=asdfgh",
    "/help/password-reset/",
    "/help/no-such-article/",
]


@pytest.fixture
def server(settings, tmp_path):
    from agents.kb_io import kb_import
    from agents.management.commands.seed_demo import DEMO_DIR

    settings.AGENT_ENCODER = "none"  # TF-IDF: the same pages, an index built in seconds
    kb_import(articles_file=DEMO_DIR / "articles.jsonl", examples_files=[DEMO_DIR / "examples.csv"])
    process, base_url = start_daphne(
        tmp_path, server_env(REDIS_URL="", CELERY_TASK_ALWAYS_EAGER="1", AGENT_ENCODER="none")
    )
    yield base_url
    process.stop()


def axe_violations(page) -> list[str]:
    """Run axe-core on the page as it is; return each violation as "id: target, …"."""
    page.add_script_tag(path=str(AXE_JS))
    violations = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        f"{v['id']} ({v['impact']}): " + ", ".join(str(n["target"]) for n in v["nodes"])
        for v in violations
    ]


@pytest.mark.parametrize("width", [1280, 390])
def test_help_pages_have_no_axe_violations(server, browser, width):
    # axe is injected as an inline script, which the pages' CSP (rightly) refuses: this
    # context alone bypasses it.
    context = browser.new_context(viewport={"width": width, "height": 800}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    for path in PAGES:
        page.goto(server + path)
        assert axe_violations(page) == [], path
    context.close()


def test_skip_link_and_search_work_from_the_keyboard(server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server + "/help/")
    expect(page).to_have_title("Help center")

    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main#content")).to_be_focused()

    page.get_by_label("Search the help center").fill("How do I reset my password?")
    page.keyboard.press("Enter")
    page.wait_for_url("**/help/search/?q=*")
    first = page.locator(".help-result-title a").first
    expect(first).to_have_text("Resetting your password")
    first.click()
    expect(page.locator("h1")).to_have_text("Resetting your password")
    expect(page.locator('link[rel="canonical"]')).to_have_attribute(
        "href", f"{server}/help/password-reset/"
    )
    context.close()
