"""Conversation states in Chromium: close, undo toast, Undo restores; a macro sends text, labels."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from chat.models import Macro, Message
from chat.services import message_create
from sessions_app.models import Label, SupportSession
from tests.browser.conftest import console_login, new_page
from tests.browser.test_console import SCREENSHOTS, off_loop, pytestmark  # noqa: F401
from tests.factories import SupportSessionFactory
from tests.servers import server_env, start_daphne


@pytest.fixture
def server(tmp_path):
    """Daphne in embedded mode with a staff user; no knowledge base: the AI takes no part."""
    get_user_model().objects.create_user(
        "dana", password="dana-password", first_name="Dana", last_name="Lee", is_staff=True
    )
    process, base_url = start_daphne(
        tmp_path, server_env(REDIS_URL="", CELERY_TASK_ALWAYS_EAGER="1")
    )
    yield base_url
    process.stop()


def seed() -> SupportSession:
    """An escalated conversation waiting in the queue, a label and a macro that uses it."""
    session = SupportSessionFactory(
        status="escalated", handled_by="ai", customer_name="Casey Jones"
    )
    message_create(session_id=session.pk, role="customer", content="Where is my refund?")
    refund = Label.objects.create(name="refund", color="#dc2626")
    macro = Macro.objects.create(
        name="Refund policy",
        body="Hi {{customer.first_name|there}}, refunds take 5 days. {{agent.first_name}}",
    )
    macro.labels.add(refund)
    return session


def test_close_can_be_undone_and_a_macro_replies_and_labels(server, browser):
    session = off_loop(seed)
    agent = new_page(browser)
    console_login(agent, server + "/console/", "dana")
    expect(agent.locator("#connection-state")).to_have_attribute("data-state", "online")

    row = agent.locator(f".inbox-item[data-session-id='{session.pk}']")
    row.click()
    expect(agent.locator("#transcript")).to_contain_text("Where is my refund?")

    # Close, then take it back from the toast: the session is as it was (in the queue).
    agent.click("#close-session")
    toast = agent.locator("#undo-toast")
    expect(toast).to_be_visible()
    expect(toast).to_contain_text("Casey Jones")
    expect(agent.locator("#session-status")).to_have_text("closed")
    expect(agent.locator("#reopen-session")).to_be_visible()  # the later way back
    agent.click("#undo-button")
    expect(toast).to_be_hidden()
    expect(agent.locator("#session-status")).to_have_text("escalated")
    expect(agent.locator("#reopen-session")).to_be_hidden()
    restored = off_loop(lambda: SupportSession.objects.get(pk=session.pk))
    assert (restored.status, restored.handled_by, restored.assignee_id) == ("escalated", "ai", None)

    # The macro: its reply (placeholders filled in) and its label, live in the console.
    agent.click("#macro-button")
    agent.locator("#macro-menu .macro-item", has_text="Refund policy").click()
    expect(agent.locator("#transcript")).to_contain_text("Hi Casey, refunds take 5 days. Dana")
    expect(agent.locator("#session-labels")).to_contain_text("refund")
    expect(row.locator(".inbox-labels")).to_contain_text("refund")

    # Filter the inbox by that label, then by a priority nobody has.
    agent.select_option("#inbox-label", "refund")
    expect(row).to_be_visible()
    agent.screenshot(path=str(SCREENSHOTS / "console-states.png"))
    agent.select_option("#inbox-priority", "urgent")
    expect(row).to_be_hidden()

    # Manage: a new canned response with a placeholder, then "/" inserts it filled in.
    agent.select_option("#inbox-priority", "")
    agent.click("#manage-button")
    canned = agent.locator("#manage-canned")
    canned.get_by_role("button", name="New…").click()
    canned.get_by_label("Shortcut (after /)").fill("thanks")
    canned.get_by_label("Title").fill("Thanks")
    canned.locator("textarea").fill("Thank you, {{customer.first_name|there}}!")
    canned.get_by_role("button", name="Add").click()
    expect(canned.locator(".manage-list")).to_contain_text("/thanks — Thanks")
    agent.click("#manage-close")
    agent.fill("#composer-input", "/than")
    agent.locator("#canned-menu .canned-item", has_text="/thanks").click()
    expect(agent.locator("#composer-input")).to_have_value("Thank you, Casey!")

    def stored():
        s = SupportSession.objects.get(pk=session.pk)
        reply = Message.objects.filter(session=s, role="agent").get()
        return s.assignee.username, [label.name for label in s.labels.all()], reply.content

    assert off_loop(stored) == (
        "dana",
        ["refund"],
        "Hi Casey, refunds take 5 days. Dana",
    )
