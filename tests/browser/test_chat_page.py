"""The customer chat page in headless Chromium against a real (embedded-mode) Daphne."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import TIMEOUT_MS, new_page, off_loop
from tests.servers import server_env, start_daphne

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def embedded_server(demo_kb, tmp_path):
    # Embedded mode: no REDIS_URL, so the in-memory layer and eager Celery, in one process.
    env = server_env(REDIS_URL="", CELERY_TASK_ALWAYS_EAGER="1")
    process, base_url = start_daphne(tmp_path, env)
    yield base_url
    process.stop()


@pytest.fixture
def page(embedded_server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(embedded_server + "/")
    yield page
    context.close()


def ask(page, text: str) -> None:
    page.fill("#message-input", text)
    page.press("#message-input", "Enter")


def test_question_gets_an_answer_with_its_source_and_survives_a_reload(page):
    page.wait_for_selector("#connection-state[data-state='online']")
    ask(page, "How do I reset my password?")
    answer = page.wait_for_selector("li.msg-assistant[data-seq]")
    assert "reset link" in answer.query_selector(".msg-content").inner_text()
    sources = [s.inner_text() for s in answer.query_selector_all(".msg-source")]
    assert sources == ["Resetting your password"]
    # No retrieval score for customers (issue 12): the console and the admin keep it.
    assert answer.query_selector(".msg-confidence") is None
    assert "Confidence" not in answer.inner_text()
    before = page.eval_on_selector_all(
        "#messages li[data-seq]", "els => els.map(e => e.dataset.id)"
    )
    assert len(before) == 2

    page.reload()
    page.wait_for_selector("#connection-state[data-state='online']")
    page.locator("#messages li[data-seq]").nth(1).wait_for()
    after = page.eval_on_selector_all("#messages li[data-seq]", "els => els.map(e => e.dataset.id)")
    assert after == before  # same history, nothing repeated, nothing lost
    page.screenshot(path=str(Path(__file__).resolve().parents[2] / "var" / "chat-page.png"))


def test_a_source_link_opens_its_help_center_article_in_a_new_tab(page):
    page.wait_for_selector("#connection-state[data-state='online']")
    ask(page, "How do I reset my password?")
    link = page.locator("li.msg-assistant[data-seq] a.msg-source-link")
    expect(link).to_have_text("Resetting your password")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener")

    with page.context.expect_page() as opened:
        link.click()
    article = opened.value
    article.wait_for_load_state()
    assert article.url.endswith("/help/password-reset/")
    expect(article.locator("h1")).to_have_text("Resetting your password")
    expect(article.locator("main")).to_contain_text("reset link")


def test_asking_for_a_human_shows_the_escalation_notice(page):
    page.wait_for_selector("#connection-state[data-state='online']")
    ask(page, "I want to talk to a real person please")
    expect(page.locator("#status-notice")).to_contain_text("connecting", ignore_case=True)
    assert page.is_hidden("#agent-status")


def test_message_text_is_rendered_as_text_not_html(page):
    page.wait_for_selector("#connection-state[data-state='online']")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    payload = "<img src=x onerror=alert(1)>"
    ask(page, payload)
    mine = page.wait_for_selector("li.msg-customer[data-seq] .msg-content")
    assert mine.inner_text() == payload
    assert page.query_selector("#messages img") is None
    assert dialogs == []


def test_server_restart_loses_and_repeats_nothing(demo_kb, tmp_path, browser):
    """The page reconnects by itself after Daphne restarts and resumes from its last seq."""
    import json
    import urllib.request
    from urllib.parse import urlsplit

    env = server_env(REDIS_URL="", CELERY_TASK_ALWAYS_EAGER="1")
    process, base_url = start_daphne(tmp_path, env)
    port = urlsplit(base_url).port
    try:
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(base_url + "/")
        page.wait_for_selector("#connection-state[data-state='online']")
        ask(page, "How do I reset my password?")
        page.wait_for_selector("li.msg-assistant[data-seq]")

        process.stop()
        page.wait_for_selector("#connection-state:not([data-state='online'])")
        process, _ = start_daphne(tmp_path, env, port=port)
        page.wait_for_selector("#connection-state[data-state='online']")

        # A message stored while the page was away arrives once, after the old ones.
        stored = json.loads(page.evaluate("localStorage.getItem('supportdesk.session')"))
        request = urllib.request.Request(  # noqa: S310 (http to our own server)
            f"{base_url}/api/v1/sessions/{stored['id']}/messages/",
            data=json.dumps({"content": "Can I pay with PayPal?"}).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Session {stored['token']}",
            },
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            assert response.status == 201
        expect(page.locator("#messages li.msg-assistant[data-seq]")).to_have_count(2)
        seqs = page.eval_on_selector_all(
            "#messages li[data-seq]", "els => els.map(e => Number(e.dataset.seq))"
        )
        assert seqs == sorted(set(seqs)) and seqs[:4] == [1, 2, 3, 4]
    finally:
        process.stop()


def _session_from_api(page, base_url: str) -> dict:
    """Read the page's session through the REST API with the page's own token."""
    import json
    import urllib.request

    stored = json.loads(page.evaluate("localStorage.getItem('supportdesk.session')"))
    request = urllib.request.Request(  # noqa: S310 (http to our own server)
        f"{base_url}/api/v1/sessions/{stored['id']}/",
        headers={"Authorization": f"Session {stored['token']}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def test_off_topic_gets_a_polite_decline_with_a_person_offered_and_no_hand_over(
    page, embedded_server
):
    page.wait_for_selector("#connection-state[data-state='online']")
    ask(page, "What's the weather like in Paris tomorrow?")
    reply = page.locator("li.msg-assistant[data-seq]").last
    expect(reply.locator(".msg-content")).to_contain_text(
        "can't answer that one", timeout=TIMEOUT_MS
    )
    person = reply.locator("button.msg-suggestion", has_text="Talk to a person")
    expect(person).to_be_visible(timeout=TIMEOUT_MS)
    # No raw score on a decline.
    expect(reply.locator(".msg-confidence")).to_have_count(0, timeout=TIMEOUT_MS)
    expect(page.locator("#status-notice")).not_to_contain_text(
        "connecting", ignore_case=True, timeout=TIMEOUT_MS
    )
    session = _session_from_api(page, embedded_server)
    assert (session["status"], session["handled_by"]) == ("open", "ai")

    # The button sends an ordinary customer message, which the policy hands over.
    person.click()
    expect(page.locator("li.msg-customer[data-seq] .msg-content").last).to_have_text(
        "I'd like to talk to a person", timeout=TIMEOUT_MS
    )
    expect(page.locator("#status-notice")).to_contain_text(
        "connecting", ignore_case=True, timeout=TIMEOUT_MS
    )
    # Stale offers are gone.
    expect(page.locator("button.msg-suggestion")).to_have_count(0, timeout=TIMEOUT_MS)


def test_two_unclear_messages_lead_to_a_hand_over_shown_without_confidence(page, embedded_server):
    page.wait_for_selector("#connection-state[data-state='online']")
    ask(page, "asdfgh")
    first = page.locator("li.msg-assistant[data-seq]").first
    expect(first.locator(".msg-content")).to_contain_text("didn't catch that", timeout=TIMEOUT_MS)
    assert _session_from_api(page, embedded_server)["status"] == "open"

    ask(page, "qwerty zxcv")
    expect(page.locator("li.msg-assistant[data-seq]")).to_have_count(2, timeout=TIMEOUT_MS)
    handover = page.locator("li.msg-assistant[data-seq]").last
    expect(handover.locator(".msg-content")).to_contain_text("support team", timeout=TIMEOUT_MS)
    expect(handover.locator(".msg-confidence")).to_have_count(0, timeout=TIMEOUT_MS)
    expect(page.locator("#status-notice")).to_contain_text(
        "connecting", ignore_case=True, timeout=TIMEOUT_MS
    )
    assert _session_from_api(page, embedded_server)["status"] == "escalated"


def test_choosing_an_offered_article_gets_its_answer(page):
    page.wait_for_selector("#connection-state[data-state='online']")
    ask(page, "Hi, I ordered shoes last week (order 4411)")
    question = page.locator("li.msg-assistant[data-seq]").last
    expect(question.locator(".msg-content")).to_contain_text("order 4411", timeout=TIMEOUT_MS)
    question.locator("button.msg-suggestion", has_text="Tracking your order").click()
    expect(page.locator("li.msg-assistant[data-seq]")).to_have_count(2, timeout=TIMEOUT_MS)
    answer = page.locator("li.msg-assistant[data-seq]").last
    expect(answer.locator(".msg-source")).to_have_text(["Tracking your order"], timeout=TIMEOUT_MS)
    expect(page.locator("#status-notice")).not_to_contain_text(
        "connecting", ignore_case=True, timeout=TIMEOUT_MS
    )


def _close_over_rest(base_url: str, session_id: str) -> None:
    """Close as an integration would (the server process's own layer tells the page)."""
    import urllib.request

    from apikeys.services import api_key_create

    key = off_loop(lambda: api_key_create(name="closer", scopes=["read", "write"]).key)
    request = urllib.request.Request(  # noqa: S310 - the test's own server
        f"{base_url}/api/v1/sessions/{session_id}/close/",
        data=b"{}",
        method="POST",
        headers={"Authorization": f"Api-Key {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 200


def _session_id(page) -> str:
    return page.evaluate("JSON.parse(localStorage.getItem('supportdesk.session')).id")


def test_writing_again_reopens_a_closed_conversation_from_the_page(page, embedded_server):
    from sessions_app.models import SupportSession

    page.wait_for_selector("#connection-state[data-state='online']")
    ask(page, "I want to talk to a real person please")
    expect(page.locator("#status-notice")).to_contain_text("connecting", ignore_case=True)
    session_id = _session_id(page)
    _close_over_rest(embedded_server, session_id)

    expect(page.locator("#rating")).to_be_visible()
    composer = page.locator("#message-input")
    expect(composer).to_be_enabled()
    expect(composer).to_have_attribute("placeholder", "Write to reopen this conversation…")
    ask(page, "Sorry, one more thing about my order")
    expect(page.locator("#rating")).to_be_hidden()
    expect(page.locator("li.msg-customer[data-seq]").last).to_contain_text("one more thing")
    expect(composer).to_have_attribute("placeholder", "Type your message…")
    assert off_loop(lambda: SupportSession.objects.get(pk=session_id).status) != "closed"
    assert _session_id(page) == session_id  # the same conversation, not a new one


def test_with_reopening_off_a_closed_conversation_keeps_its_composer_disabled(
    demo_kb, tmp_path, browser
):
    env = server_env(REDIS_URL="", CELERY_TASK_ALWAYS_EAGER="1", SESSION_REOPEN_WITHIN="0")
    process, base_url = start_daphne(tmp_path, env)
    page = new_page(browser, 390, 844)
    try:
        page.goto(base_url + "/")
        page.wait_for_selector("#connection-state[data-state='online']")
        ask(page, "I want to talk to a real person please")
        expect(page.locator("#status-notice")).to_contain_text("connecting", ignore_case=True)
        _close_over_rest(base_url, _session_id(page))
        expect(page.locator("#rating")).to_be_visible()
        composer = page.locator("#message-input")
        expect(composer).to_be_disabled()
        expect(composer).to_have_attribute("placeholder", "Conversation closed")
    finally:
        page.context.close()
        process.stop()
