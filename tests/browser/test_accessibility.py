"""axe-core on every staff page and the customer pages: zero violations of any impact."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.browser.axe import axe_context, axe_violations, describe
from tests.browser.conftest import TIMEOUT_MS
from tests.servers import server_env, start_daphne

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(demo_kb, tmp_path):
    get_user_model().objects.create_user(
        "ada", password="ada-password", first_name="Ada", is_staff=True, is_superuser=True
    )
    process, base_url = start_daphne(
        tmp_path, server_env(REDIS_URL="", CELERY_TASK_ALWAYS_EAGER="1")
    )
    yield base_url
    process.stop()


def signed_in(browser, server):
    context = axe_context(browser)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server + "/console/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "ada-password")
    page.click("#login-button")
    page.wait_for_selector("#connection-state[data-state='online']")
    return page


def assert_no_violations(page) -> None:
    violations = axe_violations(page)
    assert violations == [], describe(violations)


def test_console_login_page_has_no_axe_violations(server, browser):
    page = axe_context(browser).new_page()
    page.goto(server + "/console/login/")
    assert_no_violations(page)


def test_console_has_no_axe_violations_empty_and_with_a_conversation_open(server, browser):
    customer = browser.new_context().new_page()
    customer.set_default_timeout(TIMEOUT_MS)
    customer.goto(server + "/")
    customer.wait_for_selector("#connection-state[data-state='online']")
    customer.fill("#message-input", "I want to talk to a human please")
    customer.press("#message-input", "Enter")

    page = signed_in(browser, server)
    page.wait_for_selector(".inbox-item[data-status='escalated']")
    assert_no_violations(page)
    page.click(".inbox-item[data-status='escalated']")
    page.wait_for_selector("#transcript li.msg-customer[data-seq]")
    expect(page.locator("#take-over")).to_be_enabled()
    assert_no_violations(page)


def test_chat_page_has_no_axe_violations(server, browser):
    page = axe_context(browser, 390, 844).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server + "/")
    page.wait_for_selector("#connection-state[data-state='online']")
    page.fill("#message-input", "How do I reset my password?")
    page.press("#message-input", "Enter")
    page.wait_for_selector("li.msg-assistant[data-seq]")
    assert_no_violations(page)
