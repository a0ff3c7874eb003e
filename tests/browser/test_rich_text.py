"""Rich text in Chromium: bold and links render, hostile markup never runs, on both sides."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.browser.conftest import console_login, new_page
from tests.browser.test_chat_page import ask
from tests.servers import server_env, start_daphne

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

URL = "https://shop.example/track?order=4411"
HOSTILE = '<img src=x onerror="window.__xss=1">'
RICH = f"This is **bold** — see {URL}"
LINK_REL = "noopener noreferrer nofollow"


@pytest.fixture
def server(settings, tmp_path):
    from agents.kb_io import kb_import
    from agents.management.commands.seed_demo import DEMO_DIR

    # TF-IDF only, here and in the server: the conversation is handed to a person at once,
    # so the MiniLM build (minutes on a busy machine) would buy nothing.
    settings.AGENT_ENCODER = "none"
    kb_import(articles_file=DEMO_DIR / "articles.jsonl")
    get_user_model().objects.create_user(
        "dana", password="dana-password", first_name="Dana", is_staff=True, is_superuser=True
    )
    process, base_url = start_daphne(
        tmp_path, server_env(REDIS_URL="", CELERY_TASK_ALWAYS_EAGER="1", AGENT_ENCODER="none")
    )
    yield base_url
    process.stop()


def expect_rendered(message, *, page) -> None:
    """The message shows bold as <strong>, the URL as a safe new-tab link, the rest as text."""
    content = message.locator(".msg-content")
    expect(content.locator("strong")).to_have_text("bold")
    link = content.locator("a")
    expect(link).to_have_attribute("href", URL)
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", LINK_REL)
    assert "**" not in content.inner_text()


def expect_inert(page, container: str) -> None:
    """The hostile message shows as text: no element was built from it, no handler ran.

    The CSP alone would block an inline handler, so the absent <img> is what proves the
    sanitising; window.__xss checks nothing ran anyway.
    """
    expect(page.locator(f"{container} .msg-content", has_text="onerror").first).to_be_visible()
    assert page.locator(f"{container} img").count() == 0
    assert page.evaluate("() => window.__xss") is None


def test_bold_and_links_render_and_onerror_never_runs_on_the_chat_page_and_console(server, browser):
    customer = new_page(browser, 390, 844)
    customer.goto(server + "/")
    customer.wait_for_selector("#connection-state[data-state='online']")
    ask(customer, "I want to talk to a person please")
    expect(customer.locator("#status-notice")).to_contain_text("connecting", ignore_case=True)
    ask(customer, HOSTILE)
    ask(customer, RICH)
    customer.wait_for_selector("li.msg-customer[data-seq] >> text=bold")

    agent = new_page(browser)
    console_login(agent, server + "/console/", "dana")
    agent.wait_for_selector("#connection-state[data-state='online']")
    agent.click(".inbox-item[data-status='escalated']")
    agent.click("#take-over")
    agent.click("#mode-reply")
    for text in (HOSTILE, RICH):
        agent.fill("#composer-input", text)
        agent.press("#composer-input", "Enter")

    # The customer's page: their own message and the agent's.
    mine = customer.locator("#messages li.msg-customer[data-seq]").filter(has_text="bold")
    theirs = customer.locator("#messages li.msg-agent[data-seq]").filter(has_text="bold")
    expect_rendered(mine, page=customer)
    expect_rendered(theirs, page=customer)
    expect(customer.locator("#messages li.msg-agent[data-seq]", has_text="onerror")).to_be_visible()
    expect_inert(customer, "#messages")

    # The console: the customer's message and the agent's own.
    from_customer = agent.locator("#transcript li.msg-customer[data-seq]").filter(has_text="bold")
    from_agent = agent.locator("#transcript li.msg-agent[data-seq]").filter(has_text="bold")
    expect_rendered(from_customer, page=agent)
    expect_rendered(from_agent, page=agent)
    expect_inert(agent, "#transcript")

    # After a reload both pages render the stored history the same way.
    customer.reload()
    customer.wait_for_selector("#connection-state[data-state='online']")
    expect_rendered(
        customer.locator("#messages li.msg-agent[data-seq]").filter(has_text="bold"),
        page=customer,
    )
    expect_inert(customer, "#messages")
