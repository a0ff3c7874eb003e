"""After a hand-over, in Chromium: the expected-reply message and the email form; the customer
closes the page; the agent's reply reaches a REAL local SMTP server (aiosmtpd); its link
restores the conversation in a fresh browser; a rating with a comment shows in the console;
the transcript goes out by email."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from chat.models import Connection
from sessions_app.models import SupportSession
from tests.browser.conftest import TIMEOUT_MS, console_login, new_page
from tests.browser.test_chat_page import ask
from tests.browser.test_console import off_loop
from tests.servers import free_port, server_env, start_daphne

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(db, tmp_path, smtp_server):
    # No knowledge base: the hand-over is what matters here, and building the demo index is
    # the slowest part of a browser test (the AI hands over when it has no index).
    get_user_model().objects.create_user(
        "dana",
        password="dana-password",
        first_name="Dana",
        last_name="Lee",
        is_staff=True,
        is_superuser=True,
    )
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = server_env(
        REDIS_URL="",
        CELERY_TASK_ALWAYS_EAGER="1",
        SUPPORT_PUBLIC_URL=base_url,
        **smtp_server.env(),
    )
    process, _ = start_daphne(tmp_path, env, port=port)
    yield base_url
    process.stop()


def _customer_sockets() -> int:
    return off_loop(lambda: Connection.objects.filter(kind="customer").count())


def test_an_away_customer_is_emailed_the_reply_and_comes_back_through_the_link(
    server, browser, smtp_server
):
    customer = new_page(browser, 390, 844)
    customer.goto(server + "/")
    customer.wait_for_selector("#connection-state[data-state='online']")
    ask(customer, "I want to talk to a human please")
    # Who will answer and roughly when (no history yet: "as soon as they can").
    expect(customer.locator("#messages")).to_contain_text(
        "A member of our support team will answer you here"
    )
    # No address known: the inline form asks for one.
    expect(customer.locator("#email-ask")).to_be_visible()
    customer.fill("#email-input", "casey@example.com")
    customer.click("#email-save")
    expect(customer.locator("#email-done")).to_contain_text("casey@example.com")
    expect(customer.locator("#email-ask")).to_be_hidden()

    # The customer leaves: the page closes, the server drops its socket row.
    customer.context.close()
    deadline = time.monotonic() + 10
    while _customer_sockets() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _customer_sockets() == 0

    agent = new_page(browser)
    console_login(agent, server + "/console/", "dana")
    agent.wait_for_selector("#connection-state[data-state='online']")
    agent.click(".inbox-item[data-status='escalated']")
    agent.wait_for_selector("#transcript li.msg-customer[data-seq]")
    agent.click("#take-over")
    agent.click("#mode-reply")
    agent.fill("#composer-input", "Hi Casey, Dana here. Your refund went out today.")
    agent.press("#composer-input", "Enter")

    (mail,) = smtp_server.inbox.wait_for(1, timeout=TIMEOUT_MS / 1000)
    assert mail.rcpt_tos == ["casey@example.com"]
    assert mail.subject == "Dana Lee replied to your support conversation"
    text = mail.part("text/plain")
    assert "Your refund went out today." in text
    link = text.split("Continue the conversation: ", 1)[1].split()[0]
    assert link.startswith(server + "/#resume=")

    # A fresh browser (another device: nothing in localStorage) opens the link.
    back = new_page(browser, 390, 844)
    back.goto(link)
    back.wait_for_selector("#connection-state[data-state='online']")
    expect(back.locator("#messages")).to_contain_text("Your refund went out today.")
    assert "#resume" not in back.url  # the secret left the address bar at once
    ask(back, "Great, thank you!")
    agent.wait_for_selector("#transcript li.msg-customer[data-seq] >> text=Great, thank you!")
    # The customer is here again: the next reply is not emailed.
    agent.fill("#composer-input", "You're welcome!")
    agent.press("#composer-input", "Enter")
    back.wait_for_selector("li.msg-agent[data-seq] >> text=You're welcome!")

    # Close; the customer rates with a comment, which the console shows.
    agent.click("#close-session")
    back.wait_for_selector("#rating:not([hidden])")
    back.click("#rating button[data-rating='4']")
    back.fill("#rating-comment", "Quick and <b>kind</b>, thanks")
    back.click("#rating-send")
    expect(back.locator("#rating-thanks")).to_be_visible()
    expect(agent.locator("#session-csat")).to_contain_text("4")
    expect(agent.locator("#csat-comment")).to_have_text("Quick and <b>kind</b>, thanks")
    assert agent.locator("#csat-comment b").count() == 0  # text, not markup

    # The transcript by email, to the address on file.
    back.click("#transcript-send")
    expect(back.locator("#transcript-done")).to_contain_text("on its way")
    transcript = smtp_server.inbox.wait_for(2, timeout=TIMEOUT_MS / 1000)[1]
    assert transcript.subject == "Your support conversation"
    assert "Great, thank you!" in transcript.part("text/plain")
    assert len(smtp_server.inbox.messages) == 2  # "You're welcome!" was not emailed

    session = off_loop(lambda: SupportSession.objects.get())
    assert (session.csat, session.csat_comment) == (4, "Quick and <b>kind</b>, thanks")
    agent.goto(f"{server}/admin/sessions_app/supportsession/{session.pk}/change/")
    expect(agent.locator("body")).to_contain_text("Quick and <b>kind</b>, thanks")
