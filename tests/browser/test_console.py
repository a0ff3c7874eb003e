"""Customer and agent in two headless Chromium pages: escalate, take over, talk, close, rate."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from sessions_app.models import SupportSession
from tests.browser.conftest import console_login, new_page, off_loop
from tests.browser.test_chat_page import ask
from tests.servers import server_env, start_daphne

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var"


@pytest.fixture
def server(demo_kb, tmp_path):
    user = get_user_model().objects.create_user(
        "dana",
        password="dana-password",
        first_name="Dana",
        last_name="Lee",
        is_staff=True,
        is_superuser=True,
    )
    assert user.is_staff
    process, base_url = start_daphne(
        tmp_path, server_env(REDIS_URL="", CELERY_TASK_ALWAYS_EAGER="1")
    )
    yield base_url
    process.stop()


def test_customer_and_agent_work_a_conversation_end_to_end(server, browser):
    agent = new_page(browser)
    console_login(agent, server + "/console/", "dana")
    agent.wait_for_selector("#connection-state[data-state='online']")

    customer = new_page(browser, 390, 844)
    customer.goto(server + "/")
    customer.wait_for_selector("#connection-state[data-state='online']")
    ask(customer, "I want to talk to a human please")
    expect(customer.locator("#status-notice")).to_contain_text("connecting", ignore_case=True)
    escalated_at = time.monotonic()
    item = agent.wait_for_selector(".inbox-item[data-status='escalated']", timeout=2_000)
    assert time.monotonic() - escalated_at < 2.0

    item.click()
    agent.wait_for_selector("#transcript li.msg-customer[data-seq]")
    agent.click("#take-over")
    expect(customer.locator("#messages")).to_contain_text("Dana Lee joined")

    agent.click("#mode-reply")
    agent.fill("#composer-input", "Hi, I'm Dana. How can I help?")
    agent.press("#composer-input", "Enter")
    customer.wait_for_selector("li.msg-agent[data-seq] >> text=Hi, I'm Dana. How can I help?")

    ask(customer, "My parcel never arrived")
    agent.wait_for_selector("#transcript li.msg-customer[data-seq] >> text=My parcel never arrived")

    agent.click("#close-session")
    customer.wait_for_selector("#rating:not([hidden])")
    customer.click("#rating button[data-rating='5']")
    customer.click("#rating-send")  # stars choose; "Send rating" sends (with any comment)
    expect(customer.locator("#rating")).to_contain_text("thank", ignore_case=True)
    expect(agent.locator("#session-csat")).to_contain_text("5")
    agent.screenshot(path=str(SCREENSHOTS / "console.png"))
    customer.screenshot(path=str(SCREENSHOTS / "chat-closed.png"))

    session = off_loop(lambda: SupportSession.objects.select_related("assignee").get())
    assert (session.status, session.csat, session.assignee.username) == ("closed", 5, "dana")
    agent.goto(f"{server}/admin/sessions_app/supportsession/{session.pk}/change/")
    assert "My parcel never arrived" in agent.content()
    agent.goto(f"{server}/admin/sessions_app/supportsession/?csat__exact=5")
    assert agent.locator("#result_list tbody tr").count() == 1


@pytest.fixture
def customer_account(db):
    return get_user_model().objects.create_user("casey", password="casey-password")


def test_non_staff_cannot_use_the_console(customer_account, server, browser):
    page = new_page(browser)
    console_login(page, server + "/console/", "casey")
    page.wait_for_selector("text=not a staff account")
    page.goto(server + "/console/")
    assert page.locator("#console-app").count() == 0
