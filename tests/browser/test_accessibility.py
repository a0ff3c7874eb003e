"""axe-core (vendored) on every staff page and the chat page: zero violations of any impact."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.browser.axe import axe_context, axe_violations, describe
from tests.browser.conftest import TIMEOUT_MS, console_login
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


def sign_in(page, server) -> None:
    console_login(page, server + "/console/login/", "ada")
    page.wait_for_selector("#connection-state[data-state='online']")


def assert_no_violations(page, where: str) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{where}:\n{describe(violations)}"


def ask(page, text: str) -> None:
    page.fill("#message-input", text)
    page.press("#message-input", "Enter")


# One test, one server: the demo knowledge base's index is built once for all the pages.
@pytest.mark.timeout(600)
def test_staff_and_customer_pages_have_no_axe_violations(server, browser):
    customer = axe_context(browser, 390, 844).new_page()
    customer.set_default_timeout(TIMEOUT_MS)
    customer.goto(server + "/")
    customer.wait_for_selector("#connection-state[data-state='online']")
    assert_no_violations(customer, "chat page, empty")
    ask(customer, "How do I reset my password?")
    customer.wait_for_selector("li.msg-assistant[data-seq]")
    ask(customer, "Can I collect my order from a pickup point?")  # a clarification: a gap
    expect(customer.get_by_role("group", name="Suggested replies")).to_be_visible()
    assert_no_violations(customer, "chat page, answered and offering quick replies")
    ask(customer, "I want to talk to a human please")  # handed over
    expect(customer.locator("#status-notice")).to_be_visible()
    assert_no_violations(customer, "chat page, handed over")

    staff = axe_context(browser).new_page()
    staff.set_default_timeout(TIMEOUT_MS)
    staff.goto(server + "/console/login/")
    assert_no_violations(staff, "/console/login/")
    staff.fill("#id_username", "ada")
    staff.fill("#id_password", "wrong")
    staff.click("#login-button")
    expect(staff.locator(".login-errors")).to_be_visible()
    assert_no_violations(staff, "/console/login/ with an error")

    sign_in(staff, server)
    staff.wait_for_selector(".inbox-item[data-status='escalated']")
    assert_no_violations(staff, "/console/")
    staff.click(".inbox-item[data-status='escalated']")
    staff.wait_for_selector("#transcript li.msg-customer[data-seq]")
    expect(staff.locator("#take-over")).to_be_enabled()
    assert_no_violations(staff, "/console/ with a conversation open")
    staff.click("#take-over")
    expect(staff.locator("#mode-reply")).to_be_enabled()
    staff.click("#mode-reply")
    staff.fill("#composer-input", "/")
    expect(staff.locator("#canned-menu")).to_be_visible()
    assert_no_violations(staff, "/console/ with the canned-responses menu open")
    staff.fill("#composer-input", "Hello, I can help with that.")
    staff.press("#composer-input", "Enter")
    staff.wait_for_selector("#transcript li.msg-agent[data-seq]")

    staff.goto(server + "/console/reports/")
    expect(staff.locator("#kpi-conversations")).to_have_text("1")
    assert_no_violations(staff, "/console/reports/")
    staff.goto(server + "/console/reports/?group=agent")
    assert_no_violations(staff, "/console/reports/?group=agent")
    staff.goto(server + "/console/reports/?start=2026-02-02&end=2026-01-01")
    assert_no_violations(staff, "/console/reports/ with an error")

    staff.goto(server + "/console/gaps/")
    expect(staff.locator(".gap")).to_have_count(1)
    assert_no_violations(staff, "/console/gaps/")
